using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// Where each trial's strategy comes from, and what a fault of the strategy's own code means for the trial.
/// <para>
/// The templates are the engine's own code: every trial shares one catalog, and an exception is a bug that fails the
/// batch. A custom (uploaded) strategy is hostile code: each trial opens a scope of its own (the worker loads the
/// compiled assembly into a fresh collectible load context per trial when the strategy declares any static field, so no
/// static field survives from one trial into the next, and disposing the scope unloads it; one without static fields
/// keeps all its state in the instance each trial creates, and shares one load), and an exception the strategy throws makes that trial fail with the
/// reason <see cref="Fault"/> gives, while the batch goes on.
/// </para>
/// </summary>
public sealed class TrialStrategies
{
    /// <summary>The longest reason a failed trial keeps (the silo cuts it to the same bound).</summary>
    public const int MaxReasonChars = 2000;

    /// <summary>What a failed trial's reason starts with.</summary>
    public const string FaultPrefix = "strategy error: ";

    private readonly Func<TrialStrategyScope> _open;
    private readonly Func<Exception, string>? _describeFault;

    /// <param name="open">The catalog one trial validates its rules and runs against; called once per trial.</param>
    /// <param name="describeFault">
    /// Null: an exception fails the batch (trusted code). Otherwise the reason a trial whose strategy threw is recorded
    /// with (type, message, the source line).
    /// </param>
    public TrialStrategies(Func<TrialStrategyScope> open, Func<Exception, string>? describeFault)
    {
        _open = open;
        _describeFault = describeFault;
    }

    /// <summary>One catalog for every trial (the templates): nothing of the strategy's code can carry state between trials.</summary>
    public static TrialStrategies Shared(StrategyCatalog catalog)
    {
        var scope = new TrialStrategyScope(catalog, null);
        return new TrialStrategies(() => scope, null);
    }

    public TrialStrategyScope Open() => _open();

    /// <summary>The reason a trial failed because its strategy threw; null when such an exception must fail the batch.</summary>
    public string? Fault(Exception e) => _describeFault is null ? null : Cut(FaultPrefix + _describeFault(e));

    private static string Cut(string text) => text.Length <= MaxReasonChars ? text : text[..(MaxReasonChars - 1)] + "…";
}

/// <summary>The strategies of one trial, and what to release once it ended (a custom strategy's load context).</summary>
public sealed class TrialStrategyScope(StrategyCatalog catalog, IDisposable? owner) : IDisposable
{
    public StrategyCatalog Catalog => catalog;

    public void Dispose() => owner?.Dispose();
}
