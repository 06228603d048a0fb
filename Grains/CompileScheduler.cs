namespace Backtesting.Grains;

/// <summary>
/// Shares a silo's compiles fairly between users. At most <c>concurrency</c> compiles run at once, at most
/// <c>perOwner</c> of them for one user, and at most <c>queuedPerOwner</c> more of one user's wait; a compile past that
/// is refused at once (the API answers 429 with Retry-After). A freed slot goes to the user who has waited longest
/// among those below their limit, each user taking one turn at a time (round-robin), so one user's slow or endless
/// compiles never delay another's by more than the compiles already running: when fewer than <c>concurrency</c>
/// other users compile, a user's compile waits at most one compile's time limit. Compiles are not interrupted.
/// A plain type (the compile grain orchestrates), so the rule is tested without a cluster or a clock.
/// </summary>
public sealed class CompileScheduler(int concurrency, int perOwner, int queuedPerOwner)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<TaskCompletionSource<IDisposable>>> _waiting = new(StringComparer.Ordinal);
    /// <summary>Users with compiles waiting, in the order of their turn.</summary>
    private readonly LinkedList<string> _turns = new();
    private int _total;

    public static CompileScheduler From(BacktestClusterOptions options) =>
        new(options.MaxConcurrentCompiles, options.MaxConcurrentCompilesPerOwner, options.MaxQueuedCompilesPerOwner);

    /// <summary>Compiles running now (all users).</summary>
    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Compiles waiting for a slot (all users).</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Values.Sum(q => q.Count);
            }
        }
    }

    /// <summary>
    /// A slot for one compile of <paramref name="owner"/>, completed when it may start (dispose it when done), or null
    /// when the owner already has as many compiles running and waiting as allowed.
    /// </summary>
    public Task<IDisposable>? TryEnter(string owner)
    {
        lock (_gate)
        {
            var running = _running.GetValueOrDefault(owner);
            var waiting = _waiting.TryGetValue(owner, out var queue) ? queue.Count : 0;
            if (waiting == 0 && running < perOwner && _total < concurrency)
            {
                return Task.FromResult<IDisposable>(Grant(owner));
            }

            if (waiting >= queuedPerOwner)
            {
                return null;
            }

            if (queue is null)
            {
                _waiting[owner] = queue = new Queue<TaskCompletionSource<IDisposable>>();
            }

            if (queue.Count == 0)
            {
                _turns.AddLast(owner);
            }

            var slot = new TaskCompletionSource<IDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Enqueue(slot);
            return slot.Task;
        }
    }

    private Lease Grant(string owner)
    {
        _running[owner] = _running.GetValueOrDefault(owner) + 1;
        _total++;
        return new Lease(this, owner);
    }

    private void Release(string owner)
    {
        lock (_gate)
        {
            _total--;
            if (--_running[owner] == 0)
            {
                _running.Remove(owner);
            }

            // Hand free slots on, one turn per user, longest-waiting user first.
            for (var turn = _turns.First; turn is not null && _total < concurrency;)
            {
                var next = turn.Next;
                var user = turn.Value;
                if (_running.GetValueOrDefault(user) < perOwner)
                {
                    var queue = _waiting[user];
                    var slot = queue.Dequeue();
                    _turns.Remove(turn);
                    if (queue.Count > 0)
                    {
                        _turns.AddLast(user);
                    }
                    else
                    {
                        _waiting.Remove(user);
                    }

                    slot.SetResult(Grant(user));
                }

                turn = next;
            }
        }
    }

    private sealed class Lease(CompileScheduler scheduler, string owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                scheduler.Release(owner);
            }
        }
    }
}
