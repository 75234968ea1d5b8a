namespace Backprop.Data;

/// <summary>
/// A dataset's feature values in memory: one row-major array, or blocks of whole rows (what a reader fills when it
/// does not know how many rows are coming: each block is allocated once and never copied, so reading N values takes
/// 8N bytes, not the 16N of a final copy or the up to 24N of a doubling array).
/// </summary>
internal sealed class FeatureBlocks
{
    /// <summary>The values a block holds at most (512 KiB of doubles), rounded down to whole rows.</summary>
    internal const int BlockValues = 1 << 16;

    private readonly double[][] _blocks;
    private readonly int _blockRows;

    /// <summary>One array of <paramref name="inputs"/>-wide rows (not copied).</summary>
    public FeatureBlocks(double[] values, int inputs)
    {
        _blocks = [values];
        Inputs = inputs;
        Rows = values.Length / inputs;
        _blockRows = Math.Max(Rows, 1);
    }

    private FeatureBlocks(double[][] blocks, int blockRows, int rows, int inputs)
    {
        _blocks = blocks;
        _blockRows = blockRows;
        Rows = rows;
        Inputs = inputs;
    }

    public int Rows { get; }
    public int Inputs { get; }

    /// <summary>The one array holding every row, or null when the rows are in blocks.</summary>
    public double[]? Single => _blocks.Length == 1 && _blocks[0].Length == (long)Rows * Inputs ? _blocks[0] : null;

    /// <summary>Every value, block by block (for checks).</summary>
    public IEnumerable<ArraySegment<double>> Segments()
    {
        long left = (long)Rows * Inputs;
        foreach (var b in _blocks)
        {
            int n = (int)Math.Min(b.Length, left);
            yield return new ArraySegment<double>(b, 0, n);
            left -= n;
        }
    }

    /// <summary>Row <paramref name="row"/> (not range-checked beyond the arrays' own checks).</summary>
    public ReadOnlySpan<double> Row(int row) =>
        _blocks.Length == 1
            ? _blocks[0].AsSpan(row * Inputs, Inputs)
            : _blocks[row / _blockRows].AsSpan(row % _blockRows * Inputs, Inputs);

    /// <summary>Rows added one at a time into blocks of whole rows.</summary>
    public sealed class Builder
    {
        private readonly List<double[]> _blocks = [];
        private readonly int _inputs;
        private readonly int _blockRows;
        private double[] _current = [];
        private int _filled;
        private int _rows;

        public Builder(int inputs)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
            _inputs = inputs;
            _blockRows = Math.Max(1, BlockValues / inputs);
        }

        /// <summary>Values added (rows x inputs once each row is complete).</summary>
        public long Count { get; private set; }

        /// <summary>Adds the next value (rows are filled in order, <c>inputs</c> values each).</summary>
        public void Add(double value)
        {
            if (_filled == _current.Length)
            {
                _current = new double[(long)_blockRows * _inputs];
                _blocks.Add(_current);
                _filled = 0;
            }
            _current[_filled++] = value;
            Count++;
            if (Count % _inputs == 0)
                _rows++;
        }

        /// <summary>The rows added (a partial last row is an error).</summary>
        public FeatureBlocks Build()
        {
            if (Count % _inputs != 0)
                throw new InvalidOperationException($"{Count} values are not whole rows of {_inputs}.");
            // One block (at most 512 KiB): trimmed to one exact array, which Dataset.Features then returns as it is.
            if (_blocks.Count <= 1)
                return new FeatureBlocks(_blocks.Count == 0 ? [] : _blocks[0][..(_rows * _inputs)], _inputs);
            return new FeatureBlocks([.. _blocks], _blockRows, _rows, _inputs);
        }
    }
}
