namespace OptEq.Kernels.Native;

/// <summary>An integer known when the JIT compiles a generic method, so that branches on it fold away.</summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

// Micro-tile heights (rows of C) and widths (Vector512 columns of C): see SgemmMicroKernel.

internal readonly struct Rows1 : IConstant { public static int Value => 1; }
internal readonly struct Rows2 : IConstant { public static int Value => 2; }
internal readonly struct Rows3 : IConstant { public static int Value => 3; }
internal readonly struct Rows4 : IConstant { public static int Value => 4; }
internal readonly struct Rows5 : IConstant { public static int Value => 5; }
internal readonly struct Rows6 : IConstant { public static int Value => 6; }
internal readonly struct Rows7 : IConstant { public static int Value => 7; }
internal readonly struct Rows8 : IConstant { public static int Value => 8; }
internal readonly struct Rows9 : IConstant { public static int Value => 9; }
internal readonly struct Rows10 : IConstant { public static int Value => 10; }
internal readonly struct Rows11 : IConstant { public static int Value => 11; }
internal readonly struct Rows12 : IConstant { public static int Value => 12; }
internal readonly struct Rows13 : IConstant { public static int Value => 13; }
internal readonly struct Rows14 : IConstant { public static int Value => 14; }

internal readonly struct Vectors1 : IConstant { public static int Value => 1; }
internal readonly struct Vectors2 : IConstant { public static int Value => 2; }
