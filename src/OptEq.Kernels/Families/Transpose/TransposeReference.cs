namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    public static double[] Transpose(int m, int n, double[] a)
    {
        var t = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
        return t;
    }
}
