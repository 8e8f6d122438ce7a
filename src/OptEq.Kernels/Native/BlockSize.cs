namespace OptEq.Kernels.Native;

/// <summary>
/// A register block's size as a type argument: a kernel generic over it is compiled once per size, with the code of the
/// rows, pixels or vectors the size leaves out removed (the JIT folds <c>TSize.Count</c> to a constant).
/// </summary>
internal interface IBlockSize
{
    static abstract int Count { get; }
}

internal struct BlockOfOne : IBlockSize
{
    public static int Count => 1;
}

internal struct BlockOfThree : IBlockSize
{
    public static int Count => 3;
}

internal struct BlockOfFive : IBlockSize
{
    public static int Count => 5;
}

internal struct BlockOfSix : IBlockSize
{
    public static int Count => 6;
}
