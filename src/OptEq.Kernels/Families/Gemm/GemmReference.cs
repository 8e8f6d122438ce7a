namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>C ← α·op(A)·op(B) + β·C; op(A) is m×k, op(B) is k×n. A is stored m×k (or k×m when transposed).</summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, double[] a, double[] b, double beta, double[] c)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
    }

    /// <summary>
    /// The pre-activation op(A)·op(B) + addend of <see cref="GemmExtensions.GemmProx{T}"/> (addend null, a bias of n, or m×n);
    /// σ and σ′ of it are <see cref="Prox{TAct}"/>.
    /// </summary>
    public static double[] GemmPreActivation(bool transA, bool transB, int m, int n, int k, double[] a, double[] b, double[]? addend)
    {
        var pre = new double[m * n];
        if (addend is not null)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) pre[i * n + j] = addend.Length == n ? addend[j] : addend[i * n + j];
        Gemm(transA, transB, m, n, k, 1, a, b, addend is null ? 0 : 1, pre);
        return pre;
    }
}
