using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using Backtesting.Grains;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Npgsql;

namespace Backtesting.Tests.Rules;

/// <summary>
/// Which exceptions of the Orleans runtime are the cluster's passing faults (a silo dead or unreachable, membership
/// churning: the run is taken up again within the grace) and which are the run's own (it fails at once with its real
/// error): every exception type of every Orleans assembly the silo loads, each decided by name in <see cref="Decided"/>.
/// </summary>
public class RunInterruptionsTests
{
    /// <summary>
    /// Every exception type of the Orleans assemblies the silo loads, and whether it is the cluster's passing fault (true)
    /// or the run's own (false). A type of a new Orleans version is in no row: the test fails until someone decides it.
    /// </summary>
    private static readonly Dictionary<string, bool> Decided = new()
    {
        // Orleans.Core.Abstractions
        ["Orleans.Runtime.ClientNotAvailableException"] = true,            // the client a call was routed to is gone for now
        ["Orleans.Runtime.EnumerationAbortedException"] = false,           // an async enumeration lost: its caller starts it again
        ["Orleans.Runtime.GatewayTooBusyException"] = true,                // a gateway shedding load
        ["Orleans.Runtime.GrainExtensionNotInstalledException"] = false,   // a missing extension: a bug
        ["Orleans.Runtime.GrainReferenceNotBoundException"] = false,       // a reference used unbound: a bug
        ["Orleans.Runtime.LimitExceededException"] = true,                 // an activation shedding load (too many queued requests)
        ["Orleans.Runtime.OrleansConfigurationException"] = false,         // configuration: no wait mends it
        ["Orleans.Runtime.OrleansException"] = false,                      // bare: the application's faults too (what it wraps is looked at)
        ["Orleans.Runtime.OrleansLifecycleCanceledException"] = false,     // a silo's start cancelled: no run's call meets it
        ["Orleans.Runtime.OrleansMessageRejectionException"] = true,       // a rejection ("Forwarding failed" while membership changes)
        ["Orleans.Runtime.SiloUnavailableException"] = true,               // the target silo dead or shutting down
        ["Orleans.Runtime.WrappedException"] = false,                      // the callee's own exception, of a type not known here
        // Orleans.Core
        ["Orleans.Networking.Shared.SocketConnectionException"] = true,    // no socket to a silo
        ["Orleans.Providers.ProviderInitializationException"] = false,
        ["Orleans.Providers.ProviderStateException"] = false,
        ["Orleans.Runtime.InvalidSchedulingContextException"] = false,     // grain code on the wrong scheduler: a bug
        ["Orleans.Runtime.Messaging.ConnectionFailedException"] = true,    // no connection to a silo or gateway
        ["Orleans.Runtime.Messaging.InvalidMessageFrameException"] = false, // a corrupt frame: versions that do not match
        ["Orleans.Storage.BadProviderConfigException"] = false,
        ["Orleans.Storage.InconsistentStateException"] = false,            // another activation wrote the state
        // Orleans.Reminders
        ["Orleans.Runtime.ReminderException"] = false,                     // a reminder refused (its period, its service's setup)
        // Orleans.Runtime
        ["Orleans.Runtime.MembershipService.OrleansClusterConnectivityCheckFailedException"] = true, // this silo cannot reach the others
        ["Orleans.Runtime.MembershipService.OrleansMissingMembershipEntryException"] = true,         // this silo declared dead: taken up elsewhere
        // Orleans.Serialization: a value no codec reads or writes is the run's own, every time it is tried
        ["Orleans.Serialization.CodecNotFoundException"] = false,
        ["Orleans.Serialization.ExtendedWireTypeInvalidException"] = false,
        ["Orleans.Serialization.FieldIdNotPresentException"] = false,
        ["Orleans.Serialization.FieldTypeInvalidException"] = false,
        ["Orleans.Serialization.FieldTypeMissingException"] = false,
        ["Orleans.Serialization.IllegalTypeException"] = false,
        ["Orleans.Serialization.ReferenceFieldNotSupportedException"] = false,
        ["Orleans.Serialization.ReferenceNotFoundException"] = false,
        ["Orleans.Serialization.RequiredFieldMissingException"] = false,
        ["Orleans.Serialization.SchemaTypeInvalidException"] = false,
        ["Orleans.Serialization.SerializationConstructorNotFoundException"] = false,
        ["Orleans.Serialization.SerializerException"] = false,
        ["Orleans.Serialization.TypeMissingException"] = false,
        ["Orleans.Serialization.UnavailableExceptionFallbackException"] = false, // the callee's exception, its type unknown here
        ["Orleans.Serialization.UnexpectedLengthPrefixValueException"] = false,
        ["Orleans.Serialization.UnknownReferencedTypeException"] = false,
        ["Orleans.Serialization.UnknownWellKnownTypeException"] = false,
        ["Orleans.Serialization.UnsupportedWireTypeException"] = false,
        // Orleans.Streaming
        ["Orleans.Streams.CacheFullException"] = false,
        ["Orleans.Streams.DataNotAvailableException"] = false,
        ["Orleans.Streams.FaultedSubscriptionException"] = false,
        ["Orleans.Streams.PersistentStreamPullingAgent+QueueCacheCursorContractException"] = false,
        ["Orleans.Streams.ProviderStartException"] = false,
        ["Orleans.Streams.QueueCacheMissException"] = false,
        ["Orleans.Streams.StreamEventDeliveryFailureException"] = false,
    };

    /// <summary>
    /// The Orleans assemblies the silo loads: those the Grains and Silo assemblies reference, and those they reference in
    /// turn, to the end (read from each assembly's metadata, so a package the silo takes up is in without a list here).
    /// </summary>
    private static IReadOnlyList<Assembly> OrleansAssemblies()
    {
        var roots = new[] { typeof(BacktestGrain).Assembly, Assembly.Load("Backtesting.Silo") };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>(roots);
        var orleans = new List<Assembly>();
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (name.Name is { } n && (n.StartsWith("Orleans", StringComparison.Ordinal) || n.StartsWith("Backtesting.", StringComparison.Ordinal))
                    && seen.Add(n))
                {
                    var referenced = Assembly.Load(name);
                    pending.Enqueue(referenced);
                    if (n.StartsWith("Orleans", StringComparison.Ordinal))
                    {
                        orleans.Add(referenced);
                    }
                }
            }
        }

        return orleans;
    }

    private static IEnumerable<Type> ExceptionTypes(Assembly assembly)
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types;
        }

        return types.OfType<Type>().Where(t => typeof(Exception).IsAssignableFrom(t));
    }

    private static readonly IReadOnlyList<Type> Found = OrleansAssemblies().SelectMany(ExceptionTypes).ToList();

    public static TheoryData<string> EveryOrleansExceptionType() => new(Found.Select(t => t.FullName!).Order(StringComparer.Ordinal));

    /// <summary>The assemblies read are those of the runtime's calls, so the enumeration below is over the right ones.</summary>
    [Fact]
    public void The_orleans_assemblies_read_are_those_the_silo_calls_through()
    {
        var names = OrleansAssemblies().Select(a => a.GetName().Name).ToHashSet();
        foreach (var expected in new[] { "Orleans.Core.Abstractions", "Orleans.Core", "Orleans.Runtime", "Orleans.Serialization", "Orleans.Streaming", "Orleans.Reminders" })
        {
            Assert.Contains(expected, names);
        }

        Assert.All(RunInterruptions.ClusterFaults, t => Assert.Contains(t, Found));
    }

    /// <summary>
    /// The table and the assemblies name the same types: a new Orleans version's new exception type (or one it dropped)
    /// fails here until someone decides whether it is the cluster's or the run's.
    /// </summary>
    [Fact]
    public void Every_orleans_exception_type_is_decided_and_every_decision_names_one()
    {
        var found = Found.Select(t => t.FullName!).ToHashSet(StringComparer.Ordinal);
        var undecided = found.Where(n => !Decided.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        var gone = Decided.Keys.Where(n => !found.Contains(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(undecided.Count == 0, "undecided: " + string.Join(", ", undecided));
        Assert.True(gone.Count == 0, "no longer in Orleans: " + string.Join(", ", gone));
    }

    /// <summary>
    /// Each Orleans exception type is classified as the table says: bare, under a wrapper of the caller's, beside an
    /// unrelated fault in an aggregate, and under a bare OrleansException (as the runtime wraps a cause).
    /// </summary>
    [Theory, MemberData(nameof(EveryOrleansExceptionType))]
    public void Each_orleans_exception_type_is_classified_as_decided(string name)
    {
        var type = Found.Single(t => t.FullName == name);
        Assert.True(Decided.TryGetValue(name, out var transient), $"{name} is undecided");
        Assert.Equal(transient, RunInterruptions.ClusterFaults.Contains(type));
        if (type.IsAbstract)
        {
            return;
        }

        var fault = Make(type, "an Orleans fault");
        var outcome = transient ? RunInterruptions.ClusterUnreachableOutcome : null;
        Assert.Equal(transient, RunInterruptions.IsClusterFault(fault));
        Assert.Equal(outcome, RunInterruptions.Of(fault));
        Assert.Equal(outcome, RunInterruptions.Of(new InvalidOperationException("persisting the move to Running failed", fault)));
        Assert.Equal(outcome, RunInterruptions.Of(new AggregateException(new InvalidOperationException("unrelated"), fault)));
        Assert.Equal(outcome, RunInterruptions.Of(new OrleansException("Exception while sending message", fault)));
    }

    /// <summary>
    /// An exception of the given Orleans type: through its constructor taking a message where it has one (public or not,
    /// as the runtime builds it), else uninitialized (a type whose constructors all need runtime objects).
    /// </summary>
    internal static Exception Make(Type type, string message)
    {
        var byMessage = type.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [typeof(string)]);
        return byMessage is not null ? (Exception)byMessage.Invoke([message]) : (Exception)RuntimeHelpers.GetUninitializedObject(type);
    }

    /// <summary>
    /// The runtime still words its call timeout as the rule reads it: Orleans.Core holds the literal the rule's prefix
    /// names (an Orleans version that words it otherwise fails here rather than the rule going blind).
    /// </summary>
    [Fact]
    public void Orleans_words_its_response_timeout_as_the_rule_reads_it()
    {
        var core = typeof(Orleans.Runtime.Messaging.ConnectionFailedException).Assembly;
        using var pe = new PEReader(File.OpenRead(core.Location));
        var metadata = pe.GetMetadataReader();
        var strings = new List<string>();
        for (var handle = MetadataTokens.UserStringHandle(1); !handle.IsNil; handle = metadata.GetNextHandle(handle))
        {
            strings.Add(metadata.GetUserString(handle));
        }

        Assert.Contains(RunInterruptions.ResponseTimeoutPrefix, strings);
    }

    public static TheoryData<string, string, bool> Timeouts() => new()
    {
        { "Orleans' call timeout", RunInterruptions.ResponseTimeoutPrefix + "00:00:30 for message: Request [S127.0.0.1:11111 sys.client]->[queue/0] IBacktestQueueGrain.Renew(). ", true },
        { "the prefix alone", RunInterruptions.ResponseTimeoutPrefix, true },
        { "the run's own", "the strategy's data did not arrive within 30 s", false },
        { "the prefix elsewhere", "waited: " + RunInterruptions.ResponseTimeoutPrefix + "00:00:30", false },
        { "another case", RunInterruptions.ResponseTimeoutPrefix.ToUpperInvariant() + "00:00:30", false },
        { "default message", new TimeoutException().Message, false },
    };

    /// <summary>
    /// A <see cref="TimeoutException"/> is the cluster's only when it is the runtime's call timeout (by its message: the
    /// runtime creates it in its call-back and never throws it there, so nothing else marks it); any other one is the
    /// run's, and a subtype of it with the runtime's words is not the runtime's.
    /// </summary>
    [Theory, MemberData(nameof(Timeouts))]
    public void Only_the_runtimes_call_timeout_is_the_clusters(string what, string message, bool clusters)
    {
        var outcome = clusters ? RunInterruptions.ClusterUnreachableOutcome : null;
        Assert.True(clusters == RunInterruptions.IsResponseTimeout(new TimeoutException(message)), what);
        Assert.Equal(outcome, RunInterruptions.Of(new TimeoutException(message)));
        Assert.Equal(outcome, RunInterruptions.Of(new InvalidOperationException("renewing the slot failed", new TimeoutException(message))));
        Assert.Null(RunInterruptions.Of(new SubTimeout(message)));
    }

    private sealed class SubTimeout(string message) : TimeoutException(message);

    /// <summary>How deep a passing fault is still found: seven wrappers over it, not eight (the rule's bound on a chain).</summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(7, true)]
    [InlineData(8, false)]
    public void A_passing_fault_is_found_under_seven_wrappers_and_no_deeper(int wrappers, bool found)
    {
        Exception e = new SiloUnavailableException("The target silo became unavailable");
        for (var i = 0; i < wrappers; i++)
        {
            e = new InvalidOperationException($"wrapper {i}", e);
        }

        Assert.Equal(found ? RunInterruptions.ClusterUnreachableOutcome : null, RunInterruptions.Of(e));
    }

    public static TheoryData<string, Exception, string?> Precedence() => new()
    {
        // What a passing fault of the cluster wraps says more: the runner's daemon, another activation's write.
        { "daemon under a rejection", new SiloUnavailableException("gone", new RunnerInterruptedException("the daemon restarts")), RunEndRule.RunnerInterruptedOutcome },
        { "daemon over a rejection", new RunnerInterruptedException("the daemon restarts", new SiloUnavailableException("gone")), RunEndRule.RunnerInterruptedOutcome },
        { "another activation wrote, under a rejection", new OrleansException("x", new SiloUnavailableException("gone", new Orleans.Storage.InconsistentStateException("ETag mismatch", "a", "b"))), null },
        { "another activation wrote, over a rejection", new Orleans.Storage.InconsistentStateException("ETag mismatch", new SiloUnavailableException("gone")), null },
        // The database is looked for first, anywhere in the chain.
        { "database under a rejection", new SiloUnavailableException("gone", new PostgresException("terminating connection", "FATAL", "FATAL", "57P01")), RunEndRule.DatabaseUnavailableOutcome },
        { "database beside the run's fault", new AggregateException(new NullReferenceException(), new PostgresException("x", "FATAL", "FATAL", "08006")), RunEndRule.DatabaseUnavailableOutcome },
        // An aggregate: the first passing fault among its faults, or the one already found above it.
        { "aggregate of the run's faults", new AggregateException(new NullReferenceException(), new Orleans.Serialization.CodecNotFoundException("no codec")), null },
        { "aggregate under a rejection", new SiloUnavailableException("gone", new AggregateException(new NullReferenceException())), RunInterruptions.ClusterUnreachableOutcome },
        { "daemon in an aggregate", new AggregateException(new SiloUnavailableException("gone"), new RunnerInterruptedException("restarting")), RunInterruptions.ClusterUnreachableOutcome },
        // The run's own faults, however the runtime or a caller carries them: never the cluster's.
        { "codec under a caller's wrapper", new InvalidOperationException("x", new Orleans.Serialization.CodecNotFoundException("no codec")), null },
        { "a bug carried back by the runtime", new OrleansException("wrapped", new NullReferenceException()), null },
        { "a bare Orleans fault", new OrleansException("Failed to register the activation in the grain directory"), null },
        { "the runner's refusal", new RunnerUnavailableException("the Docker daemon is unreachable"), null },
    };

    /// <summary>Which fault wins when several sit in one chain: the database first, then the runner's daemon or another activation's write, then the cluster.</summary>
    [Theory, MemberData(nameof(Precedence))]
    public void What_a_fault_wraps_says_more_than_the_fault(string what, Exception e, string? outcome) =>
        Assert.True(outcome == RunInterruptions.Of(e), $"{what}: {RunInterruptions.Of(e) ?? "the run's own"}");
}
