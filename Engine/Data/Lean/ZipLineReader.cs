using System.IO.Compression;

namespace Backtesting.Engine.Data.Lean;

/// <summary>
/// Streams the lines of the single CSV inside a LEAN zip. Lines are handed out as spans over one
/// reused byte buffer, so reading a file of any size allocates only the buffer and the inflater.
/// </summary>
internal sealed class ZipLineReader : IDisposable
{
    private const int InitialBufferSize = 64 * 1024;

    private readonly ZipArchive _archive;
    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _endOfStream;

    public ZipLineReader(string path)
    {
        Path = path;
        _archive = ZipFile.OpenRead(path);
        try
        {
            if (_archive.Entries.Count != 1)
                throw new InvalidDataException($"{path}: expected one CSV in the zip, found {_archive.Entries.Count} entries");
            _stream = _archive.Entries[0].Open();
        }
        catch
        {
            _archive.Dispose();
            throw;
        }
        _buffer = new byte[InitialBufferSize];
    }

    public string Path { get; }

    /// <summary>1-based number of the line last returned (blank lines count too).</summary>
    public int LineNumber { get; private set; }

    /// <summary>The next non-blank line without its line break; false at the end.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = pending[..newline];
                _start += newline + 1;
            }
            else if (_endOfStream)
            {
                // The last line often has no line break.
                if (pending.IsEmpty)
                {
                    line = default;
                    return false;
                }
                line = pending;
                _start = _end;
            }
            else
            {
                Fill();
                continue;
            }
            LineNumber++;
            if (!line.IsEmpty && line[^1] == (byte)'\r')
                line = line[..^1];
            if (!line.IsEmpty)
                return true;
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            Array.Resize(ref _buffer, _buffer.Length * 2); // a line longer than the buffer: rare
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
            _endOfStream = true;
        else
            _end += read;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _archive.Dispose();
    }
}
