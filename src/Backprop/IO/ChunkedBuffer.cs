namespace Backprop.IO;

/// <summary>
/// A list that grows by fixed blocks instead of doubling one array: a reader that does not know how many values are
/// coming holds at most one partly filled block beyond them while it reads (a doubling list holds up to twice the
/// values, and three times while it grows), and <see cref="ToArray"/> needs the values once more, briefly.
/// </summary>
internal sealed class ChunkedBuffer<T>
{
    private const int BlockSize = 1 << 16;
    private readonly List<T[]> _blocks = [];
    private int _inLast = BlockSize;

    /// <summary>Values added.</summary>
    public long Count { get; private set; }

    public void Add(T value)
    {
        if (_inLast == BlockSize)
        {
            _blocks.Add(new T[BlockSize]);
            _inLast = 0;
        }
        _blocks[^1][_inLast++] = value;
        Count++;
    }

    /// <summary>The values in one array of exactly <see cref="Count"/>; the buffer is empty afterwards.</summary>
    public T[] ToArray()
    {
        if (Count > Array.MaxLength)
            throw new BackpropException($"{Count:N0} values do not fit in one array (at most {Array.MaxLength:N0}).");
        var result = new T[Count];
        long at = 0;
        for (int b = 0; b < _blocks.Count; b++)
        {
            int n = (int)Math.Min(BlockSize, Count - at);
            Array.Copy(_blocks[b], 0, result, at, n);
            _blocks[b] = null!;
            at += n;
        }
        _blocks.Clear();
        _inLast = BlockSize;
        Count = 0;
        return result;
    }
}
