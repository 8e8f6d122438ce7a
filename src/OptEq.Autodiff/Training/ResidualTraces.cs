namespace OptEq.Autodiff.Training;

/// <summary>Residual traces of a solve [iteration, sample] reduced to one curve for plots.</summary>
internal static class ResidualTraces
{
    /// <summary>The mean over the batch at each iteration; empty when no trace was recorded.</summary>
    public static double[] Mean(double[,]? trace)
    {
        if (trace is null) return [];
        int iterations = trace.GetLength(0), batch = trace.GetLength(1);
        var mean = new double[iterations];
        for (int k = 0; k < iterations; k++)
        {
            double sum = 0;
            for (int i = 0; i < batch; i++) sum += trace[k, i];
            mean[k] = sum / batch;
        }
        return mean;
    }
}
