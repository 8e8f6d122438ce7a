namespace OptEq.Tests.Optimizers;

/// <summary>Dense float64 matrix helpers for the dense DDP computations the DDPNOpt tests compare against.</summary>
internal static class DenseMatrices
{
    public static double[,] Outer(double[] a, double[] b, double scale)
    {
        var m = new double[a.Length, b.Length];
        for (int i = 0; i < a.Length; i++) for (int j = 0; j < b.Length; j++) m[i, j] = scale * a[i] * b[j];
        return m;
    }
    public static double[,] Transpose(double[,] a)
    {
        var m = new double[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[j, i] = a[i, j];
        return m;
    }
    public static double[,] Mul(double[,] a, double[,] b)
    {
        var m = new double[a.GetLength(0), b.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++) for (int l = 0; l < a.GetLength(1); l++) { double v = a[i, l]; if (v == 0) continue; for (int j = 0; j < b.GetLength(1); j++) m[i, j] += v * b[l, j]; }
        return m;
    }
    public static double[] MatVec(double[,] a, double[] x)
    {
        var y = new double[a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) y[i] += a[i, j] * x[j];
        return y;
    }
    public static double[,] Scale(double[,] a, double s)
    {
        var m = (double[,])a.Clone();
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[i, j] *= s;
        return m;
    }
    public static double[,] Subtract(double[,] a, double[,] b)
    {
        var m = (double[,])a.Clone();
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[i, j] -= b[i, j];
        return m;
    }
    public static double[,] AddIdentity(double[,] a, double e)
    {
        var m = (double[,])a.Clone();
        for (int i = 0; i < a.GetLength(0); i++) m[i, i] += e;
        return m;
    }
    public static double Trace(double[,] a) { double s = 0; for (int i = 0; i < a.GetLength(0); i++) s += a[i, i]; return s; }
}
