using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Reference;

/// <summary>
/// The oracle: every kernel as the plainest float64 loop over dense row-major host arrays (leading dimension =
/// column count). Tests and benchmarks compare each backend against these; they are never used for speed.
/// </summary>
public static partial class ReferenceKernels
{
    // One partial file per kernel family: Families/<Family>/<Family>Reference.cs.
}
