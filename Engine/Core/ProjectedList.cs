using System.Collections;

namespace Backtesting.Engine.Core;

/// <summary>
/// A read-only view of a list through a selector: item <c>i</c> is <c>selector(source[i])</c>, made when it is read.
/// The result document's orders and fills are such views of the engine's own records, so a run of hundreds of
/// thousands of orders does not hold a second, record-shaped copy of them until (and while) results.json is written.
/// The source must no longer change once the view is handed out (the engine's lists are final when it packages).
/// </summary>
internal sealed class ProjectedList<TIn, TOut> : IReadOnlyList<TOut>
{
    private readonly IReadOnlyList<TIn> _source;
    private readonly Func<TIn, TOut> _selector;

    public ProjectedList(IReadOnlyList<TIn> source, Func<TIn, TOut> selector)
    {
        _source = source;
        _selector = selector;
    }

    public int Count => _source.Count;

    public TOut this[int index] => _selector(_source[index]);

    public IEnumerator<TOut> GetEnumerator()
    {
        var count = _source.Count;
        for (var i = 0; i < count; i++)
        {
            yield return _selector(_source[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
