using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// What <see cref="SampleExtensions.UpdateSamples{T,TRule}"/> does to one sample: reads the sample's two inputs and its
/// state column, updates the column, and returns the two values that the trace rows record. A public struct passed by
/// value into the kernel (like the activations), so each rule gets its own specialised kernel; ILGPU compiles it, so it
/// must not convert int to T (T.CreateTruncating inspects System.Type): counts arrive as T fields of the rule.
/// </summary>
public interface ISampleRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    (T, T) Apply(T x, T y, ref SampleColumn<T> state);
}

/// <summary>
/// One sample's column of a per-sample state tensor [<see cref="SampleColumn.Rows"/>, batch]: row r is field S{r}.
/// What the rows mean is the rule's business; the kernel only loads and stores them.
/// </summary>
public struct SampleColumn<T> where T : unmanaged
{
    public T S0, S1, S2, S3, S4, S5, S6, S7;
}

public static class SampleColumn
{
    /// <summary>Rows of a per-sample state tensor.</summary>
    public const int Rows = 8;
}
