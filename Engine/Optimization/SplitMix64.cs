namespace Backtesting.Engine.Optimization;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator whose sequence is fixed by its seed on every
/// runtime and machine, unlike <see cref="System.Random"/>, whose algorithm is the runtime's business. Searches draw a
/// fresh generator per trial number (<see cref="ForTrial"/>), so a trial's draws never depend on how trials were batched.
/// </summary>
public struct SplitMix64(ulong seed)
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state = seed;

    /// <summary>The generator of one trial of a job: a function of the job's seed and the trial number only.</summary>
    public static SplitMix64 ForTrial(long seed, int trial)
    {
        var mixer = new SplitMix64(unchecked((ulong)seed));
        var jobKey = mixer.Next();
        return new SplitMix64(jobKey ^ unchecked((ulong)trial * Golden + 0x632BE59BD9B4E019UL));
    }

    public ulong Next()
    {
        var z = unchecked(_state += Golden);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) without modulo bias worth speaking of (the high half of a 128-bit product).</summary>
    public long NextLong(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (long)(((UInt128)Next() * (ulong)n) >> 64);
    }

    /// <summary>A standard normal draw (Box–Muller, one of the pair).</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble(); // (0, 1]
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
