namespace OptEq.Kernels;

public enum DeviceKind
{
    /// <summary>Vectorised C# on all cores: the CPU path.</summary>
    NativeCpu,
    /// <summary>An NVIDIA GPU through ILGPU's PTX backend.</summary>
    Cuda,
    /// <summary>An OpenCL device through ILGPU.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: emulates GPU threads to check kernels without a GPU. Never a fast path.</summary>
    IlgpuCpu,
}

public enum MatrixOp { None, Transpose }

public enum RowReduction
{
    /// <summary>Σⱼ x[i,j]·y[i,j].</summary>
    Dot,
    /// <summary>Σⱼ x[i,j]².</summary>
    SquaredNorm,
    /// <summary>Σⱼ (x[i,j] − y[i,j])².</summary>
    SquaredDistance,
    /// <summary>maxⱼ |x[i,j]|.</summary>
    MaxAbs,
    /// <summary>Σⱼ x[i,j].</summary>
    Sum,
}

/// <summary>Where one matrix operand lives: element offset, row stride (leading dimension) and batch stride (0 = shared by all batches).</summary>
public readonly record struct MatrixLayout(long Offset, long RowStride, long BatchStride);

/// <summary>A device's description, as <c>opteq devices</c> prints it.</summary>
public sealed record DeviceInfo(string Id, DeviceKind Kind, string Name, IReadOnlyList<KeyValuePair<string, string>> Properties);
