using Orleans.Runtime;

namespace Backtesting.Tests.Storage;

/// <summary>A grain that exercises the three AdoNet providers: persistent state and a reminder.</summary>
public interface IProbeGrain : IGrainWithGuidKey
{
    Task SetValue(string value);

    Task<ProbeSnapshot> Read();

    /// <summary>Deactivates after this call, so the next call activates afresh and reads state from storage.</summary>
    Task Deactivate();

    Task StartReminder(TimeSpan period);

    Task StopReminder();

    Task<string> SiloAddress();
}

[GenerateSerializer]
public sealed record ProbeSnapshot([property: Id(0)] string? Value, [property: Id(1)] int ReminderTicks, [property: Id(2)] Guid ActivationId);

[GenerateSerializer]
public sealed class ProbeState
{
    [Id(0)] public string? Value { get; set; }
    [Id(1)] public int ReminderTicks { get; set; }
}

public sealed class ProbeGrain([PersistentState("probe", "Default")] IPersistentState<ProbeState> state) : Grain, IProbeGrain, IRemindable
{
    public const string ReminderName = "probe-tick";

    // A new id per activation: lets the test see that a deactivation really happened.
    private readonly Guid _activationId = Guid.NewGuid();

    public async Task SetValue(string value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
    }

    public Task<ProbeSnapshot> Read() => Task.FromResult(new ProbeSnapshot(state.State.Value, state.State.ReminderTicks, _activationId));

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task StartReminder(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), period);

    public async Task StopReminder()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<string> SiloAddress() => Task.FromResult(RuntimeIdentity);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.ReminderTicks++;
        await state.WriteStateAsync();
    }
}
