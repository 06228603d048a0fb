namespace Backtesting.Engine.Robustness;

/// <summary>The argument checks the robustness statistics share, so every one names the argument it refuses.</summary>
internal static class RobustnessArguments
{
    public static void RequireFinite(ReadOnlySpan<double> values, string name)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException($"value {i} is {values[i]}; every value must be a finite number", name);
            }
        }
    }

    public static void RequireTrials(int trials, string name)
    {
        if (trials < 2)
        {
            throw new ArgumentOutOfRangeException(name, trials, "at least 2 trials are needed to speak of selection");
        }
    }
}
