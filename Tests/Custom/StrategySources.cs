namespace Backtesting.Tests.Custom;

/// <summary>Custom strategy sources for the tests, and where in them a marked line is.</summary>
internal static class StrategySources
{
    /// <summary>Marks the line a test expects a diagnostic at.</summary>
    public const string Marker = "// <- here";

    /// <summary>The example that ships with the repository: the MovingAverageCross template's logic as an upload.</summary>
    public static string SmaCross => File.ReadAllText(SmaCrossPath);

    public static string SmaCrossPath => Path.Combine(TestPaths.RepositoryRoot, "examples", "strategies", "SmaCross.cs");

    /// <summary>A minimal strategy with code placed in OnStart, in the class body and before the usings.</summary>
    public static string Probe(string inOnStart = "", string members = "", string header = "", string inOnBar = "") => $$"""
        {{header}}
        using System.Collections.Generic;
        using Backtesting.Engine.Data;
        using Backtesting.Engine.Strategies;

        public sealed class Probe : Strategy
        {
            private readonly List<double[]> _hoard = new();
            private long _spins;

        {{members}}
            [Parameter("How many bars to wait before misbehaving", Min = 0, Max = 100000)]
            public int After { get; set; } = 5;

            public override void OnStart()
            {
        {{inOnStart}}
            }

            public override void OnBar(in MarketData bar)
            {
        {{inOnBar}}
            }

            public int Hoarded => _hoard.Count + (int)(_spins % 2);
        }
        """;

    /// <summary>The 1-based line that holds <see cref="Marker"/>.</summary>
    public static int MarkedLine(string source)
    {
        var lines = source.ReplaceLineEndings("\n").Split('\n');
        var index = Array.FindIndex(lines, l => l.Contains(Marker, StringComparison.Ordinal));
        return index >= 0 ? index + 1 : throw new ArgumentException("the source has no marked line");
    }

    /// <summary>The 1-based column where <paramref name="text"/> starts on the marked line.</summary>
    public static int MarkedColumn(string source, string text)
    {
        var line = source.ReplaceLineEndings("\n").Split('\n')[MarkedLine(source) - 1];
        return line.IndexOf(text, StringComparison.Ordinal) + 1;
    }
}
