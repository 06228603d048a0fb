using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Realtime;

/// <summary>
/// The current state of a backtest as the seed's messages, sent to a subscriber before any live event: a
/// progress message while it waits or runs; an error (when it failed or timed out) and the completion once it ended.
/// </summary>
public static class Snapshot
{
    public static IReadOnlyList<RelayedEvent> Messages(BacktestStatus status, DateTime now)
    {
        var id = status.Id;
        var messages = new List<RelayedEvent>();
        if (!status.IsTerminal)
        {
            messages.Add(Message(id, MessageTypes.Progress, now, status.Progress ?? BacktestProgressData.None));
            return messages;
        }

        if (status.State is BacktestState.Failed or BacktestState.TimedOut && status.Error is { } error)
        {
            messages.Add(Message(id, MessageTypes.Error, now, error));
        }

        var completion = Lifecycle.CompletionWord(status.State);
        var executionTime = status.Attempts.Sum(a => ((a.EndedAt ?? a.StartedAt) - a.StartedAt).TotalSeconds);
        messages.Add(Message(id, MessageTypes.Complete, now, new BacktestCompleteData(completion, Math.Round(executionTime, 3),
            status.Summary ?? new CompletionSummary(0, 0, 0, 0), BacktestLinks.Results(id), status.State is BacktestState.Cancelled or BacktestState.TimedOut)));
        return messages;
    }

    /// <summary>The progress of a backtest that has not started: everything at zero.</summary>
    public static RelayedEvent Message<T>(Guid id, string type, DateTime now, T data)
    {
        var json = JsonSerializer.Serialize(new BacktestMessage<T>(type, id.ToString(), now, data), JsonDefaults.Options);
        using var document = JsonDocument.Parse(json);
        return new RelayedEvent(id, type, json, document.RootElement.Clone());
    }
}

/// <summary>Which of a backtest's events a subscriber wants.</summary>
public enum EventSelection
{
    /// <summary>Progress, errors and the completion (the seed's three message types).</summary>
    Progress,
    /// <summary>Trades and equity points as they are produced, and the completion.</summary>
    Results,
    /// <summary>Everything.</summary>
    All,
}

public static class EventFilter
{
    public static bool Wants(this EventSelection selection, string type) => selection switch
    {
        EventSelection.Progress => type is MessageTypes.Progress or MessageTypes.Error or MessageTypes.Complete,
        EventSelection.Results => type is MessageTypes.Trade or MessageTypes.Equity or MessageTypes.Complete or MessageTypes.Error,
        _ => true,
    };
}
