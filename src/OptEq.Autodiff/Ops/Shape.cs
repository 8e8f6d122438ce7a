namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>The same elements in another shape (-1 infers one dimension).</summary>
    public static Variable<T> Reshape<T>(Variable<T> x, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var source = x.Value.Reshape(shape);
        var value = tape.Rent(source.Shape);
        tape.Compute(() => tape.Device.Copy(source, value));
        var y = tape.Result(value, x);
        Tensor<T>? dyAsX = null; // made on the first backward, reused on replays
        tape.Record(y, () => Accumulate(x.GradBuffer, dyAsX ??= y.GradBuffer.Reshape(x.Shape)));
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
        tape.Compute(() => tape.Device.Copy(source, value));
        var y = tape.Result(value, x);
        Tensor<T>? dxView = null;
        tape.Record(y, () => Accumulate(dxView ??= view(x.GradBuffer), y.GradBuffer));
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
        var targets = new Tensor<T>[parts.Length];
        for (int i = 0, offset = 0; i < parts.Length; offset += parts[i].Shape[1], i++) targets[i] = value.SliceColumns(offset, parts[i].Shape[1]);
        tape.Compute(() =>
        {
            for (int i = 0; i < parts.Length; i++) tape.Device.Copy(parts[i].Value, targets[i]);
        });
        var y = tape.Result(value, parts);
        Tensor<T>[]? dySlices = null; // made on the first backward, reused on replays
        tape.Record(y, () =>
        {
            if (dySlices is null)
            {
                dySlices = new Tensor<T>[parts.Length];
                for (int i = 0, o = 0; i < parts.Length; o += parts[i].Shape[1], i++) dySlices[i] = y.GradBuffer.SliceColumns(o, parts[i].Shape[1]);
            }
            for (int i = 0; i < parts.Length; i++)
                if (parts[i].RequiresGrad) Accumulate(parts[i].GradBuffer, dySlices[i]);
        });
        return y;
    }

    /// <summary>xᵀ of a matrix.</summary>
    public static Variable<T> Transpose<T>(Variable<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var value = tape.Rent(x.Shape[1], x.Shape[0]);
        tape.Compute(() => tape.Device.Transpose(x.Value, value));
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
        var value = tape.Rent(rows, cols);
        var targets = new Tensor<T>[blocks.Length];
        for (int i = 0; i < blocks.Length; i++)
        {
            var (block, r, c) = blocks[i];
            if (r < 0 || c < 0 || r + block.Shape[0] > rows || c + block.Shape[1] > cols)
                throw new ShapeException($"assemble: block [{string.Join(", ", block.Shape)}] at ({r}, {c}) does not fit in [{rows}, {cols}]");
            targets[i] = value.Slice(r, block.Shape[0]).SliceColumns(c, block.Shape[1]);
        }
        tape.Compute(() =>
        {
            tape.Device.Fill(value, T.Zero);
            for (int i = 0; i < blocks.Length; i++) tape.Device.Copy(blocks[i].Block.Value, targets[i]);
        });
        var y = tape.Result(value, blocks.Select(b => b.Block).ToArray());
        Tensor<T>[]? dyBlocks = null; // made on the first backward, reused on replays
        tape.Record(y, () =>
        {
            if (dyBlocks is null)
            {
                dyBlocks = new Tensor<T>[blocks.Length];
                for (int i = 0; i < blocks.Length; i++)
                    dyBlocks[i] = y.GradBuffer.Slice(blocks[i].Row, blocks[i].Block.Shape[0]).SliceColumns(blocks[i].Column, blocks[i].Block.Shape[1]);
            }
            for (int i = 0; i < blocks.Length; i++)
                if (blocks[i].Block.RequiresGrad) Accumulate(blocks[i].Block.GradBuffer, dyBlocks[i]);
        });
        return y;
    }
}
