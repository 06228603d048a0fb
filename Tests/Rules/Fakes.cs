using System.Reflection;

namespace Backtesting.Tests.Rules;

/// <summary>
/// A fake of any interface whose methods return tasks: it records each call (name and arguments) in order and
/// answers from <see cref="Answer"/>, or with a completed task of the default value.
/// </summary>
public class CallRecorder : DispatchProxy
{
    public List<(string Method, object?[] Arguments)> Calls { get; } = [];

    /// <summary>Answers a call by method name; null: the default answer.</summary>
    public Func<string, object?[], object?>? Answer { get; set; }

    public static (T Fake, CallRecorder Recorder) Of<T>() where T : class
    {
        var fake = Create<T, CallRecorder>();
        return (fake, (CallRecorder)(object)fake);
    }

    public IEnumerable<string> Methods => Calls.Select(c => c.Method);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        args ??= [];
        Calls.Add((targetMethod.Name, args));
        if (Answer?.Invoke(targetMethod.Name, args) is { } answer)
        {
            return answer;
        }

        var type = targetMethod.ReturnType;
        if (type == typeof(Task))
        {
            return Task.CompletedTask;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var result = type.GetGenericArguments()[0] is { IsValueType: true } value ? Activator.CreateInstance(value) : null;
            return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(type.GetGenericArguments()[0]).Invoke(null, [result]);
        }

        return type.IsValueType ? Activator.CreateInstance(type) : null;
    }
}
