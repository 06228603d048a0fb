using System.Reflection;
using Backtesting.Compiler;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Security;

/// <summary>
/// The allow-list, walked as a whole: no member of any allowed type that reads the clock, the machine or entropy is
/// reachable, and no type that does is allowed at all.
/// </summary>
public sealed class DeterminismPolicyTests
{
    /// <summary>Members that read the clock, the machine or entropy, wherever they are declared.</summary>
    private static readonly string[] ClockAndEntropy =
    [
        "Now", "UtcNow", "Today", "TickCount", "TickCount64", "NewGuid", "GetTimestamp", "Shared", "GetUtcNow", "GetLocalNow",
        "GetRandomBytes", "GetHashCode", "GetNonRandomizedHashCode", "CurrentManagedThreadId", "ProcessorCount", "ToLocalTime",
        "ToUniversalTime", "CurrentCulture", "CurrentCultureIgnoreCase", "CurrentUICulture", "ElapsedTicks", "Elapsed",
    ];

    /// <summary>Types whose whole purpose is the clock, entropy or the machine.</summary>
    private static readonly string[] ClockAndEntropyTypes =
    [
        "System.Random", "System.Guid", "System.HashCode", "System.Diagnostics.Stopwatch", "System.TimeProvider", "System.DateTimeOffset",
        "System.Environment", "System.TimeZoneInfo", "System.Security.Cryptography.RandomNumberGenerator", "System.Threading.Timer",
        "System.Runtime.CompilerServices.RuntimeHelpers",
    ];

    private static readonly Assembly[] Assemblies =
        [typeof(object).Assembly, typeof(List<>).Assembly, typeof(Enumerable).Assembly, typeof(Strategy).Assembly, typeof(Stack<>).Assembly];

    [Fact]
    public void No_allowed_type_reads_the_clock_or_entropy()
    {
        Assert.All(ClockAndEntropyTypes, name =>
        {
            var dot = name.LastIndexOf('.');
            Assert.False(SandboxPolicy.IsAllowedType(name[..dot], name[(dot + 1)..]), $"{name} is on the allow-list");
        });
    }

    [Fact]
    public void No_member_of_an_allowed_type_reads_the_clock_or_entropy()
    {
        var allowed = AllowedTypes().ToList();
        Assert.True(allowed.Count > 100, $"only {allowed.Count} allowed types were found: the walk would prove nothing");
        var reachable = new List<string>();
        foreach (var type in allowed)
        {
            var full = (type.IsGenericType ? type.GetGenericTypeDefinition() : type).FullName!.Split('`')[0].Replace('+', '.');
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (!ClockAndEntropy.Contains(member.Name))
                {
                    continue;
                }

                var denied = SandboxPolicy.DeniedMemberReason(full, member.Name) is not null;
                var deterministicHash = member.Name == nameof(GetHashCode) && SandboxPolicy.DeterministicHashTypes.Contains(full);
                if (!denied && !deterministicHash)
                {
                    reachable.Add($"{full}.{member.Name}");
                }
            }
        }

        Assert.True(reachable.Count == 0, "reachable from a strategy: " + string.Join(", ", reachable.Distinct()));
    }

    private static IEnumerable<Type> AllowedTypes()
    {
        foreach (var assembly in Assemblies.Distinct())
        {
            foreach (var type in assembly.GetExportedTypes())
            {
                var outer = type;
                while (outer.DeclaringType is not null)
                {
                    outer = outer.DeclaringType;
                }

                if (SandboxPolicy.IsAllowedType(outer.Namespace ?? "", outer.Name))
                {
                    yield return type;
                }
            }
        }
    }
}
