using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Grid-stride loop indices for 2-D launches: columns along x (consecutive threads touch consecutive elements of a row,
/// so accesses coalesce), rows along y. A kernel written as
/// <c>for (r = FirstRow; r &lt; rows; r += RowStep) for (c = FirstCol; c &lt; cols; c += ColStep)</c> is correct for any grid.
/// </summary>
public static class GridStride
{
    public static int FirstRow => Grid.IdxY * Group.DimY + Group.IdxY;
    public static int RowStep => Grid.DimY * Group.DimY;
    public static int FirstCol => Grid.IdxX * Group.DimX + Group.IdxX;
    public static int ColStep => Grid.DimX * Group.DimX;
}
