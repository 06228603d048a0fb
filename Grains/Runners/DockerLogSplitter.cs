using System.Text;
using System.Threading.Channels;
using Backtesting.Grains.Protocol;
using Docker.DotNet;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Turns a container's log stream into the run's lines. Without a TTY, Docker sends stdout and stderr multiplexed in
/// framed chunks, and a chunk can end mid-line: stdout becomes the protocol lines on the run's channel, bounded like
/// every runner's (<see cref="RunChannels.Splitter"/>); of stderr only the end is kept, for logs and errors.
/// </summary>
internal sealed class DockerLogSplitter
{
    /// <summary>How much of the container's stderr is kept; a longer stderr line is cut to this too.</summary>
    public const int StderrTailChars = 8192;

    private readonly StringBuilder _stderrTail = new();
    private readonly BoundedLineSplitter _stdout;
    private readonly BoundedLineSplitter _stderr;

    public DockerLogSplitter(Channel<string> lines, int maxLineBytes)
    {
        _stdout = RunChannels.Splitter(lines, maxLineBytes);
        _stderr = new BoundedLineSplitter(StderrTailChars, AppendStderr);
    }

    /// <summary>The end of the worker's stderr (the human summary or a crash message), for logs and errors.</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderrTail)
            {
                return _stderrTail.ToString();
            }
        }
    }

    /// <summary>Reads the stream to its end, then hands on the last line of each side even without its newline.</summary>
    public async Task ReadToEndAsync(MultiplexedStream stream)
    {
        var buffer = new byte[RunChannels.ReadBufferBytes];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
            if (read.EOF)
            {
                break;
            }

            (read.Target == MultiplexedStream.TargetStream.StandardError ? _stderr : _stdout).Add(buffer.AsSpan(0, read.Count));
        }

        _stdout.Flush();
        _stderr.Flush();
    }

    private void AppendStderr(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.AppendLine(line);
            if (_stderrTail.Length > StderrTailChars)
            {
                _stderrTail.Remove(0, _stderrTail.Length - StderrTailChars);
            }
        }
    }
}
