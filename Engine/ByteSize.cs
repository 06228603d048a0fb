namespace Backtesting.Engine;

/// <summary>The unit memory limits and sizes are given in across the project.</summary>
public static class ByteSize
{
    /// <summary>Bytes in a mebibyte (what the project's "MB" limits and reports mean): 1,048,576.</summary>
    public const long MiB = 1024 * 1024;
}
