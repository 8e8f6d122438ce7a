namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>The same elements in another shape (-1 infers one dimension).</summary>
    public static Variable<T> Reshape<T>(Variable<T> x, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var value = tape.Rent(x.Value.Reshape(shape).Shape);
        tape.Device.Copy(x.Value.Reshape(value.Shape), value);
        var y = tape.Result(value, x);
        tape.Record(y, () => Accumulate(x.GradBuffer, y.GradBuffer.Reshape(x.Shape)));
        return y;
    }

    /// <summary>Rows [start, start + count) of a matrix.</summary>
    public static Variable<T> SliceRows<T>(Variable<T> x, int start, int count) where T : unmanaged, IFloatingPointIeee754<T>
        => CopyOfView(x, t => t.Slice(start, count));

    /// <summary>Columns [start, start + count) of a matrix.</summary>
    public static Variable<T> SliceColumns<T>(Variable<T> x, int start, int count) where T : unmanaged, IFloatingPointIeee754<T>
        => CopyOfView(x, t => t.SliceColumns(start, count));

    /// <summary>A copy of a view of x; backward adds the gradient into the same view of x's gradient.</summary>
    private static Variable<T> CopyOfView<T>(Variable<T> x, Func<Tensor<T>, Tensor<T>> view) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var source = view(x.Value);
        var value = tape.Rent(source.Shape);
        tape.Device.Copy(source, value);
        var y = tape.Result(value, x);
        tape.Record(y, () => Accumulate(view(x.GradBuffer), y.GradBuffer));
        return y;
    }

    /// <summary>Matrices side by side: [rows, Σ colsᵢ].</summary>
    public static Variable<T> ConcatColumns<T>(params Variable<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts.Length == 0) throw new ArgumentException("concat: nothing to concatenate");
        var tape = parts[0].Tape;
        int rows = parts[0].Shape[0];
        foreach (var p in parts)
            if (p.Value.Rank != 2 || p.Shape[0] != rows || !ReferenceEquals(p.Tape, tape))
                throw new ShapeException($"concat: every part must be a matrix with {rows} rows on the same tape, got [{string.Join(", ", p.Shape)}]");
        int cols = parts.Sum(p => p.Shape[1]);
        var value = tape.Rent(rows, cols);
        int offset = 0;
        foreach (var p in parts) { tape.Device.Copy(p.Value, value.SliceColumns(offset, p.Shape[1])); offset += p.Shape[1]; }
        var y = tape.Result(value, parts);
        tape.Record(y, () =>
        {
            int o = 0;
            foreach (var p in parts)
            {
                if (p.RequiresGrad) Accumulate(p.GradBuffer, y.GradBuffer.SliceColumns(o, p.Shape[1]));
                o += p.Shape[1];
            }
        });
        return y;
    }

    /// <summary>xᵀ of a matrix.</summary>
    public static Variable<T> Transpose<T>(Variable<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var value = tape.Rent(x.Shape[1], x.Shape[0]);
        tape.Device.Transpose(x.Value, value);
        var y = tape.Result(value, x);
        tape.Record(y, () =>
        {
            var t = tape.Rent(x.Shape);
            tape.Device.Transpose(y.GradBuffer, t);
            Accumulate(x.GradBuffer, t);
        });
        return y;
    }

    /// <summary>
    /// A [rows, cols] matrix of zeros with each block placed at its (row, column) offset — e.g. the block-bidiagonal W
    /// of a deep OptEq layer. Blocks must not overlap.
    /// </summary>
    public static Variable<T> AssembleBlocks<T>(int rows, int cols, params (Variable<T> Block, int Row, int Column)[] blocks) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (blocks.Length == 0) throw new ArgumentException("assemble: no blocks");
        var tape = blocks[0].Block.Tape;
        var value = tape.Zeros(rows, cols);
        foreach (var (block, r, c) in blocks)
        {
            if (r < 0 || c < 0 || r + block.Shape[0] > rows || c + block.Shape[1] > cols)
                throw new ShapeException($"assemble: block [{string.Join(", ", block.Shape)}] at ({r}, {c}) does not fit in [{rows}, {cols}]");
            tape.Device.Copy(block.Value, value.Slice(r, block.Shape[0]).SliceColumns(c, block.Shape[1]));
        }
        var y = tape.Result(value, blocks.Select(b => b.Block).ToArray());
        tape.Record(y, () =>
        {
            foreach (var (block, r, c) in blocks)
                if (block.RequiresGrad) Accumulate(block.GradBuffer, y.GradBuffer.Slice(r, block.Shape[0]).SliceColumns(c, block.Shape[1]));
        });
        return y;
    }
}
