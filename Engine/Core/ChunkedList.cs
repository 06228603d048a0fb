using System.Collections;
using System.Runtime.CompilerServices;

namespace Backtesting.Engine.Core;

/// <summary>
/// An append-only list kept in fixed-size chunks, for what a run records per fill, order or trade. Adding
/// never copies the items already stored and never allocates on the large object heap: a
/// <see cref="List{T}"/> that grows to hundreds of thousands of items reallocates and copies itself
/// repeatedly, and each of those large arrays counts towards a full (gen 2) garbage collection.
/// Reads by index are O(1). Not thread-safe; enumerating while adding is not supported.
/// </summary>
internal sealed class ChunkedList<T> : IReadOnlyList<T>
{
    // Chunks stay below the runtime's 85,000-byte large-object threshold.
    private const int MaxChunkBytes = 64 * 1024;

    private readonly int _shift;
    private readonly int _mask;
    private T[][] _chunks = new T[4][];
    private int _count;

    public ChunkedList()
    {
        // The largest power of two items that fits in a chunk: index = (chunk << shift) + slot.
        var length = 1;
        while (length * 2 * Unsafe.SizeOf<T>() <= MaxChunkBytes)
        {
            length *= 2;
        }

        _shift = int.Log2(length);
        _mask = length - 1;
    }

    public int Count => _count;

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return _chunks[index >> _shift][index & _mask];
        }
    }

    public void Add(T item)
    {
        var chunk = AddSlot(out var slot);
        chunk[slot] = item;
    }

    /// <summary>
    /// Appends a default item and says where it lives: its chunk and its slot in it. A chunk is never moved nor
    /// copied, so the pair stays valid for the list's lifetime and the item can be updated in place through it.
    /// </summary>
    public T[] AddSlot(out int slot)
    {
        var chunk = _count >> _shift;
        slot = _count & _mask;
        if (slot == 0)
        {
            if (chunk == _chunks.Length)
            {
                Array.Resize(ref _chunks, _chunks.Length * 2);
            }

            _chunks[chunk] = new T[_mask + 1];
        }

        _count++;
        return _chunks[chunk];
    }

    /// <summary>The chunk that holds item <paramref name="index"/>, and its slot in it.</summary>
    public T[] ChunkOf(int index, out int slot)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        slot = index & _mask;
        return _chunks[index >> _shift];
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return _chunks[i >> _shift][i & _mask];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
