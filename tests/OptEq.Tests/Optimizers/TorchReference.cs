namespace OptEq.Tests.Optimizers;

/// <summary>
/// Host float64 transcriptions of PyTorch's update rules (torch.optim.SGD, Adam, AdamW; single-tensor, non-fused path),
/// one parameter at a time, written independently of the device kernels.
/// </summary>
internal static class TorchReference
{
    public sealed class Sgd(double momentum, double dampening, bool nesterov, double weightDecay)
    {
        private readonly Dictionary<int, double[]> _buffers = [];

        public void Step(int index, double[] p, double[] grad, double lr, bool noWeightDecay)
        {
            double wd = noWeightDecay ? 0 : weightDecay;
            var g = (double[])grad.Clone();
            if (wd != 0) for (int i = 0; i < g.Length; i++) g[i] += wd * p[i];
            if (momentum != 0)
            {
                if (!_buffers.TryGetValue(index, out var buf)) _buffers[index] = buf = (double[])g.Clone();
                else for (int i = 0; i < g.Length; i++) buf[i] = momentum * buf[i] + (1 - dampening) * g[i];
                if (nesterov) for (int i = 0; i < g.Length; i++) g[i] += momentum * buf[i];
                else g = (double[])buf.Clone();
            }
            for (int i = 0; i < p.Length; i++) p[i] += -lr * g[i];
        }
    }

    public sealed class Adam(double beta1, double beta2, double eps, double weightDecay, bool decoupled)
    {
        private readonly Dictionary<int, (double[] M, double[] V, int Step)> _state = [];

        public void Step(int index, double[] p, double[] grad, double lr, bool noWeightDecay)
        {
            double wd = noWeightDecay ? 0 : weightDecay;
            if (!_state.TryGetValue(index, out var s)) s = (new double[p.Length], new double[p.Length], 0);
            int t = s.Step + 1;
            _state[index] = (s.M, s.V, t);
            var g = (double[])grad.Clone();
            if (decoupled) for (int i = 0; i < p.Length; i++) p[i] *= 1 - lr * wd;
            else if (wd != 0) for (int i = 0; i < p.Length; i++) g[i] += wd * p[i];
            double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
            double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
            for (int i = 0; i < p.Length; i++)
            {
                s.M[i] = beta1 * s.M[i] + (1 - beta1) * g[i];
                s.V[i] = beta2 * s.V[i] + (1 - beta2) * g[i] * g[i];
                double denom = Math.Sqrt(s.V[i]) / bc2Sqrt + eps;
                p[i] += -stepSize * s.M[i] / denom;
            }
        }
    }

    public static double[] Gaussian(Random random, int n)
    {
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return x;
    }
}
