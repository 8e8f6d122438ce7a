using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The convolution family on the CPU: per sample, the column matrix (<see cref="Im2Col"/>) and the packed GEMM
/// (<see cref="NativeGemm"/>): forward W·col, backward input col2im(Wᵀ·gradOut), backward weight Σ_b gradOut_b·col_bᵀ.
/// Samples are split across the cores, each core with its own column buffer rented from the device pool (so a call
/// allocates nothing once the pool holds the buffer) and running its GEMMs on its own thread; a batch of one leaves
/// the cores to the GEMM instead. A 1×1 kernel with stride 1 and no padding needs no column matrix: it is the input.
/// </summary>
internal sealed unsafe class Conv2dNative(Device device) : IConv2dBackend
{
    // Workspace is rented as flat vectors: the pool hands back the same tensor object for the same length only when the
    // shape matches too, so flat rentals of equal length never allocate a new view.

    public void Forward<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> weight, MatrixView<T> bias, MatrixView<T> output, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && WinogradConv.Applies(g))
        {
            WinogradConv.Forward(device, g, batch, Floats(input), (float*)weight.Ptr(), weight.RowStride, bias.IsAbsent ? null : (float*)bias.Ptr(), Floats(output), float.CreateTruncating(beta));
            return;
        }
        if (typeof(T) == typeof(float) && DirectConv.Applies(g))
        {
            Direct(g, batch, Floats(input), (float*)weight.Ptr(), weight.RowStride, bias.IsAbsent ? null : (float*)bias.Ptr(), Floats(output), float.CreateTruncating(beta));
            return;
        }
        // One input channel at stride ≥ 2, at most 9 taps: tap planes and a product written straight into NCHW under Auto (OneChannelConv).
        if (typeof(T) == typeof(float) && OneChannelConv.Applies(g))
        {
            OneChannelForward(g, batch, Floats(input), (float*)weight.Ptr(), weight.RowStride, bias.IsAbsent ? null : (float*)bias.Ptr(), Floats(output), float.CreateTruncating(beta));
            return;
        }
        // Stride 2: channels-last under Auto where it measured faster (ChannelsLastConv.AppliesForward: ≥ 8 channels each
        // way, one input channel with a larger kernel, < 4 output channels); Direct keeps PolyphaseConv for comparison.
        if (typeof(T) == typeof(float) && ChannelsLastConv.AppliesForward(g))
        {
            ChannelsLastForward(g, batch, Floats(input), (float*)weight.Ptr(), weight.RowStride, bias.IsAbsent ? null : (float*)bias.Ptr(), Floats(output), float.CreateTruncating(beta));
            return;
        }
        if (typeof(T) == typeof(float) && PolyphaseConv.Applies(g))
        {
            Polyphase(g, batch, Floats(input), (float*)weight.Ptr(), weight.RowStride, bias.IsAbsent ? null : (float*)bias.Ptr(), Floats(output), float.CreateTruncating(beta));
            return;
        }
        int parts = Parts(batch);
        var cols = RentColumns<T>(g, parts);
        var body = new ForwardSamples<T>
        {
            G = g, Batch = batch, Parts = parts, Columns = cols is null ? null : MatrixView<T>.Of(cols).Ptr(),
            Input = input.Rows(), Weight = weight.Ptr(), LdWeight = weight.RowStride, Bias = bias.IsAbsent ? null : bias.Ptr(), Output = output.Rows(), Beta = beta,
        };
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), body);
        if (cols is not null) device.Pool.Return(cols);
    }

    public void BackwardInput<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> weight, MatrixView<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && DirectConv.Adjoint(g) is { } adjoint && (WinogradConv.Applies(adjoint) || DirectConv.Applies(adjoint)))
        {
            // convᵀ at stride 1 is a convolution of gradOutput with the flipped, transposed kernel.
            var flipped = device.Pool.Rent<float>(adjoint.OutChannels * adjoint.WeightColumns);
            float* kernel = (float*)MatrixView<float>.Of(flipped).Ptr();
            DirectConv.FlipTranspose(g, (float*)weight.Ptr(), weight.RowStride, kernel);
            if (WinogradConv.Applies(adjoint))
                WinogradConv.Forward(device, adjoint, batch, Floats(gradOutput), kernel, adjoint.WeightColumns, null, Floats(gradInput), float.CreateTruncating(beta));
            else
                Direct(adjoint, batch, Floats(gradOutput), kernel, adjoint.WeightColumns, null, Floats(gradInput), float.CreateTruncating(beta));
            device.Pool.Return(flipped);
            return;
        }
        // Stride 2 with ≥ 8 input channels: channels-last under Auto (measured 1.4–2× the polyphase kernel and the grouped
        // im2col at 16×28×28 → 32 and 32×14×14 → 32; see ChannelsLastConv.AppliesBackwardInput); otherwise, and under
        // Direct, the comparison below still holds.
        if (typeof(T) == typeof(float) && ChannelsLastConv.AppliesBackwardInput(g))
        {
            ChannelsLastBackwardInput(g, batch, Floats(gradOutput), (float*)weight.Ptr(), weight.RowStride, Floats(gradInput), float.CreateTruncating(beta));
            return;
        }
        // At stride 2 the grouped im2col product measured faster than the phase-wise direct kernel at the models' shapes
        // (32×14×14 → 7×7: 1.7×; 16×28×28 → 14×14: even), so Auto takes it wherever it groups samples; Direct keeps the kernel.
        if (typeof(T) == typeof(float) && PolyphaseConvTranspose.Applies(g)
            && (NativeConvolution.Algorithm == NativeConvAlgorithm.Direct || InputGradientGroup(g, batch, Parts(batch)) == 1))
        {
            PolyphaseTranspose(g, batch, Floats(gradOutput), (float*)weight.Ptr(), weight.RowStride, Floats(gradInput), float.CreateTruncating(beta));
            return;
        }
        int parts = Parts(batch);
        int group = InputGradientGroup(g, batch, parts);
        if (group > 1)
        {
            BackwardInputGrouped(g, batch, parts, group, gradOutput, weight, gradInput, beta);
            return;
        }
        var cols = RentColumns<T>(g, parts);
        var body = new BackwardInputSamples<T>
        {
            G = g, Batch = batch, Parts = parts, Columns = cols is null ? null : MatrixView<T>.Of(cols).Ptr(),
            GradOutput = gradOutput.Rows(), Weight = weight.Ptr(), LdWeight = weight.RowStride, GradInput = gradInput.Rows(), Beta = beta,
        };
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), body);
        if (cols is not null) device.Pool.Return(cols);
    }

    /// <summary>
    /// Samples per GEMM of the im2col input gradient: one product per sample has only OutPixels columns, too few for
    /// the packed GEMM (a 7 × 7 output: 49), so small outputs gather several samples' gradients into one product of
    /// about <see cref="GroupColumns"/> columns. 1 where the output is large enough, or the kernel pointwise.
    /// </summary>
    private static int InputGradientGroup(in Conv2dGeometry g, int batch, int parts)
    {
        if (IsPointwise(g) || g.OutPixels >= GroupColumns / 2) return 1;
        return Math.Clamp(GroupColumns / g.OutPixels, 1, (batch + parts - 1) / parts);
    }

    private const int GroupColumns = 768;

    private void BackwardInputGrouped<T>(in Conv2dGeometry g, int batch, int parts, int group, MatrixView<T> gradOutput, MatrixView<T> weight, MatrixView<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long columns = (long)group * g.OutPixels, perPart = (long)g.WeightColumns * columns + (long)g.OutChannels * columns;
        if (perPart * parts > int.MaxValue) throw new ShapeException($"conv2d: the column matrix of {g} ({perPart} elements per group) is too large");
        var work = device.Pool.Rent<T>((int)(perPart * parts));
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new BackwardInputGroups<T>
        {
            G = g, Batch = batch, Parts = parts, Group = group, Work = MatrixView<T>.Of(work).Ptr(), PerPart = perPart,
            GradOutput = gradOutput.Rows(), Weight = weight.Ptr(), LdWeight = weight.RowStride, GradInput = gradInput.Rows(), Beta = beta,
        });
        device.Pool.Return(work);
    }

    public void BackwardWeight<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> gradOutput, MatrixView<T> gradWeight, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = g.OutChannels, k = g.WeightColumns;
        T* dw = gradWeight.Ptr();
        long ldw = gradWeight.RowStride;
        if (batch == 0)
        {
            for (int o = 0; o < m; o++) Scale(dw + o * ldw, k, beta);
            return;
        }
        if (typeof(T) == typeof(float) && WinogradConv.Applies(g))
        {
            WinogradConv.BackwardWeight(device, g, batch, Floats(input), Floats(gradOutput), (float*)dw, ldw, float.CreateTruncating(beta));
            return;
        }
        if (typeof(T) == typeof(float) && DirectConvWeight.Applies(g))
        {
            DirectWeight(g, batch, Floats(input), Floats(gradOutput), (float*)dw, ldw, float.CreateTruncating(beta));
            return;
        }
        if (typeof(T) == typeof(float) && StridedConvWeight.Applies(g))
        {
            StridedWeight(g, batch, Floats(input), Floats(gradOutput), (float*)dw, ldw, float.CreateTruncating(beta));
            return;
        }
        int parts = Parts(batch);
        var cols = RentColumns<T>(g, parts);
        // Part 0 accumulates into gradWeight itself; every other part into its own partial sum, added at the end.
        var partials = parts > 1 ? device.Pool.Rent<T>((parts - 1) * m * k) : null;
        var body = new BackwardWeightSamples<T>
        {
            G = g, Batch = batch, Parts = parts, Columns = cols is null ? null : MatrixView<T>.Of(cols).Ptr(),
            Input = input.Rows(), GradOutput = gradOutput.Rows(), GradWeight = dw, LdGradWeight = ldw,
            Partials = partials is null ? null : MatrixView<T>.Of(partials).Ptr(), Beta = beta,
        };
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), body);
        if (partials is not null)
        {
            T* sums = MatrixView<T>.Of(partials).Ptr();
            for (int q = 1; q < parts; q++)
                for (int o = 0; o < m; o++) Add(sums + ((long)(q - 1) * m + o) * k, dw + o * ldw, k);
            device.Pool.Return(partials);
        }
        if (cols is not null) device.Pool.Return(cols);
    }

    public void BackwardBias<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradBias, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
        => NativeParallel.For(g.OutChannels, (long)batch * g.OutPixels, new BiasSums<T>
        {
            Batch = batch, Pixels = g.OutPixels, GradOutput = gradOutput.Rows(), GradBias = gradBias.Ptr(), Beta = beta,
        });

    /// <summary>The stride-1 float32 convolution without a column matrix (<see cref="DirectConv"/>), samples split across the cores.</summary>
    private void Direct(in Conv2dGeometry g, int batch, RowPointer<float> input, float* weight, long ldw, float* bias, RowPointer<float> output, float beta)
    {
        int parts = Parts(batch);
        var plan = new DirectConv.Plan(g);
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new DirectSamples
        {
            G = g, Plan = plan, Batch = batch, Parts = parts, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(),
            Input = input, Weight = weight, LdWeight = ldw, Bias = bias, Output = output, Beta = beta,
        });
        device.Pool.Return(workspace);
    }

    /// <summary>The stride-2 float32 convolution without a column matrix (<see cref="PolyphaseConv"/>), samples split across the cores.</summary>
    private void Polyphase(in Conv2dGeometry g, int batch, RowPointer<float> input, float* weight, long ldw, float* bias, RowPointer<float> output, float beta)
    {
        int parts = Parts(batch);
        var plan = new PolyphaseConv.Plan(g);
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new PolyphaseConv.ForwardSamples
        {
            G = g, Plan = plan, Batch = batch, Parts = parts, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(),
            Input = input, Weight = weight, LdWeight = ldw, Bias = bias, Output = output, Beta = beta,
        });
        device.Pool.Return(workspace);
    }

    /// <summary>The float32 convolution of one input channel at stride ≥ 2 (<see cref="OneChannelConv"/>), the cores taking samples from a shared counter.</summary>
    private void OneChannelForward(in Conv2dGeometry g, int batch, RowPointer<float> input, float* weight, long ldw, float* bias, RowPointer<float> output, float beta)
    {
        int parts = Parts(batch);
        var plan = new OneChannelConv.Plan(g);
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        int nextSample = 0;
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new OneChannelConv.ForwardSamples
        {
            G = g, Plan = plan, Batch = batch, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(),
            Input = input, Weight = weight, LdWeight = ldw, Bias = bias, Output = output, Beta = beta, NextSample = &nextSample,
        });
        device.Pool.Return(workspace);
    }

    /// <summary>The stride-2 float32 convolution channels-last (<see cref="ChannelsLastConv"/>), the cores taking samples from a shared counter.</summary>
    private void ChannelsLastForward(in Conv2dGeometry g, int batch, RowPointer<float> input, float* weight, long ldw, float* bias, RowPointer<float> output, float beta)
    {
        int parts = Parts(batch);
        var plan = new ChannelsLastConv.ForwardPlan(g);
        var kernel = device.Pool.Rent<float>(ChannelsLastConv.ForwardKernelLength(g));
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        float* packed = (float*)MatrixView<float>.Of(kernel).Ptr();
        ChannelsLastConv.PackForward(g, weight, ldw, packed);
        int nextSample = 0;
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new ChannelsLastConv.ForwardSamples
        {
            G = g, Plan = plan, Batch = batch, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(), Kernel = packed,
            Bias = bias, Input = input, Output = output, Beta = beta, NextSample = &nextSample,
        });
        device.Pool.Return(workspace);
        device.Pool.Return(kernel);
    }

    /// <summary>The stride-2 float32 input gradient channels-last (<see cref="ChannelsLastConv"/>), the cores taking samples from a shared counter.</summary>
    private void ChannelsLastBackwardInput(in Conv2dGeometry g, int batch, RowPointer<float> gradOutput, float* weight, long ldw, RowPointer<float> gradInput, float beta)
    {
        int parts = Parts(batch);
        var plan = new ChannelsLastConv.BackwardPlan(g);
        var kernel = device.Pool.Rent<float>(ChannelsLastConv.BackwardKernelLength(g));
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        float* packed = (float*)MatrixView<float>.Of(kernel).Ptr();
        ChannelsLastConv.PackBackward(g, weight, ldw, packed);
        int nextSample = 0;
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new ChannelsLastConv.BackwardInputSamples
        {
            G = g, Plan = plan, Batch = batch, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(), Kernel = packed,
            GradOutput = gradOutput, GradInput = gradInput, Beta = beta, NextSample = &nextSample,
        });
        device.Pool.Return(workspace);
        device.Pool.Return(kernel);
    }

    /// <summary>The stride-2 float32 input gradient by phases (<see cref="PolyphaseConvTranspose"/>), samples split across the cores.</summary>
    private void PolyphaseTranspose(in Conv2dGeometry g, int batch, RowPointer<float> gradOutput, float* weight, long ldw, RowPointer<float> gradInput, float beta)
    {
        int parts = Parts(batch);
        var plan = new PolyphaseConvTranspose.Plan(g);
        var kernel = device.Pool.Rent<float>(PolyphaseConvTranspose.KernelLength(g));
        var workspace = device.Pool.Rent<float>(parts * plan.Workspace);
        float* packed = (float*)MatrixView<float>.Of(kernel).Ptr();
        PolyphaseConvTranspose.Pack(g, weight, ldw, packed);
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new PolyphaseConvTranspose.Samples
        {
            G = g, Plan = plan, Batch = batch, Parts = parts, Workspace = (float*)MatrixView<float>.Of(workspace).Ptr(), Kernel = packed,
            GradOutput = gradOutput, GradInput = gradInput, Beta = beta,
        });
        device.Pool.Return(workspace);
        device.Pool.Return(kernel);
    }

    /// <summary>The stride-1 float32 weight gradient with few input channels, without a column matrix (<see cref="DirectConvWeight"/>), samples split across the cores.</summary>
    private void DirectWeight(in Conv2dGeometry g, int batch, RowPointer<float> input, RowPointer<float> gradOutput, float* dw, long ldw, float beta)
    {
        int parts = Parts(batch);
        var plan = new DirectConv.Plan(g);
        int size = DirectConvWeight.Workspace(g, plan);
        var workspace = device.Pool.Rent<float>(parts * size);
        var sums = device.Pool.Rent<float>(parts * DirectConvWeight.SumLength(g));
        float* partSums = (float*)MatrixView<float>.Of(sums).Ptr();
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new DirectConvWeight.Samples
        {
            G = g, Plan = plan, Batch = batch, Parts = parts, Workspace = size, Workspaces = (float*)MatrixView<float>.Of(workspace).Ptr(),
            Sums = partSums, Input = input, GradOutput = gradOutput,
        });
        DirectConvWeight.Finish(g, partSums, parts, beta, dw, ldw);
        device.Pool.Return(sums);
        device.Pool.Return(workspace);
    }

    /// <summary>The stride-2 float32 weight gradient without a column matrix (<see cref="StridedConvWeight"/>), samples split across the cores.</summary>
    private void StridedWeight(in Conv2dGeometry g, int batch, RowPointer<float> input, RowPointer<float> gradOutput, float* dw, long ldw, float beta)
    {
        int parts = Parts(batch);
        var plan = new DirectConv.Plan(g);
        int size = StridedConvWeight.Workspace(g, plan);
        var workspace = device.Pool.Rent<float>(parts * size);
        var sums = device.Pool.Rent<float>(parts * StridedConvWeight.SumLength(g));
        float* partSums = (float*)MatrixView<float>.Of(sums).Ptr();
        NativeParallel.For(parts, WorkPerPart(g, batch, parts), new StridedConvWeight.Samples
        {
            G = g, Plan = plan, Batch = batch, Parts = parts, Workspace = size, Workspaces = (float*)MatrixView<float>.Of(workspace).Ptr(),
            Sums = partSums, Input = input, GradOutput = gradOutput,
        });
        StridedConvWeight.Finish(g, partSums, parts, beta, dw, ldw);
        device.Pool.Return(sums);
        device.Pool.Return(workspace);
    }

    private static RowPointer<float> Floats<T>(MatrixView<T> v) where T : unmanaged => new((float*)v.Ptr(), v.RowStride);

    /// <summary>One part per core, but no more parts than samples.</summary>
    /// <summary>The next unclaimed sample of a call whose parts take samples one at a time (≥ the batch once all are taken).</summary>
    internal static int ClaimSample(int* next) => Interlocked.Increment(ref *next) - 1;

    private static int Parts(int batch) => Math.Max(1, Math.Min(batch, NativeParallel.Workers));

    /// <summary>Multiply-adds per part: what <see cref="NativeParallel"/> weighs against the cost of waking the workers.</summary>
    private static long WorkPerPart(in Conv2dGeometry g, int batch, int parts) => (long)g.OutputSize * g.WeightColumns * batch / parts;

    /// <summary>A 1×1 kernel with stride 1 and no padding reads each pixel once, in place: the input is its own column matrix.</summary>
    private static bool IsPointwise(in Conv2dGeometry g) => g is { KernelHeight: 1, KernelWidth: 1, Stride: 1, Padding: 0 };

    private Tensor<T>? RentColumns<T>(in Conv2dGeometry g, int parts) where T : unmanaged
    {
        if (IsPointwise(g)) return null;
        long length = (long)g.WeightColumns * g.OutPixels;
        if (length * parts > int.MaxValue) throw new ShapeException($"conv2d: the column matrix of {g} ({length} elements per sample) is too large");
        return device.Pool.Rent<T>((int)(length * parts));
    }

    /// <summary>The samples of part q of parts: [batch·q/parts, batch·(q+1)/parts).</summary>
    internal static (int Start, int End) Samples(int batch, int q, int parts) => ((int)((long)batch * q / parts), (int)((long)batch * (q + 1) / parts));

    /// <summary>x[0..n) ← β·x (β = 0 clears, so NaN in x does not survive).</summary>
    internal static void Scale<T>(T* x, int n, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.Zero) new Span<T>(x, n).Clear();
        else if (beta != T.One) for (int i = 0; i < n; i++) x[i] *= beta;
    }

    /// <summary>y[0..n) += x[0..n).</summary>
    private static void Add<T>(T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < n; i++) y[i] += x[i];
    }

    private struct DirectSamples : IRangeBody
    {
        public Conv2dGeometry G;
        public DirectConv.Plan Plan;
        public int Batch, Parts;
        public float* Workspace, Weight, Bias;
        public long LdWeight;
        public RowPointer<float> Input, Output;
        public float Beta;

        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Samples(Batch, q, Parts);
                float* padded = Workspace + (long)q * Plan.Workspace, result = padded + Plan.PaddedLength;
                for (int b = b0; b < b1; b++)
                {
                    DirectConv.Pad(G, Plan, Input[b], padded);
                    DirectConv.Forward(G, Plan, padded, Weight, LdWeight, result);
                    DirectConv.Store(G, Plan, result, Bias, Beta, Output[b]);
                }
            }
        }
    }

    private struct ForwardSamples<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public int Batch, Parts;
        public T* Columns, Weight, Bias;
        public long LdWeight;
        public RowPointer<T> Input, Output;
        public T Beta;

        public readonly void Run(int q0, int q1)
        {
            int m = G.OutChannels, n = G.OutPixels, k = G.WeightColumns;
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Samples(Batch, q, Parts);
                T* col = Columns + (long)q * k * n;
                for (int b = b0; b < b1; b++)
                {
                    T* y = Output[b];
                    if (Columns == null) col = Input[b];
                    else Im2Col.Gather(G, Input[b], col);
                    NativeGemm.Gemm(false, false, m, n, k, T.One, Weight, LdWeight, col, n, Beta, y, n);
                    if (Bias != null)
                        for (int o = 0; o < m; o++) AddScalar(y + (long)o * n, n, Bias[o]);
                }
            }
        }

        private static void AddScalar(T* y, int n, T value)
        {
            int i = 0;
            if (SimdWidth.Current >= VectorWidth.Bits256)
            {
                var v = Vector256.Create(value);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(y + i) + v, y + i);
            }
            for (; i < n; i++) y[i] += value;
        }
    }

    private struct BackwardInputSamples<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public int Batch, Parts;
        public T* Columns, Weight;
        public long LdWeight;
        public RowPointer<T> GradOutput, GradInput;
        public T Beta;

        public readonly void Run(int q0, int q1)
        {
            int m = G.WeightColumns, n = G.OutPixels, k = G.OutChannels;
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Samples(Batch, q, Parts);
                T* col = Columns + (long)q * m * n;
                for (int b = b0; b < b1; b++)
                {
                    T* dx = GradInput[b];
                    if (Columns == null)
                    {
                        // Pointwise: the columns are the input gradient itself.
                        NativeGemm.Gemm(true, false, m, n, k, T.One, Weight, LdWeight, GradOutput[b], n, Beta, dx, n);
                        continue;
                    }
                    NativeGemm.Gemm(true, false, m, n, k, T.One, Weight, LdWeight, GradOutput[b], n, T.Zero, col, n);
                    Scale(dx, G.InputSize, Beta);
                    Im2Col.ScatterAdd(G, col, dx);
                }
            }
        }
    }

    /// <summary>The im2col input gradient over groups of samples: their gradients side by side, one GEMM, col2im per sample.</summary>
    private struct BackwardInputGroups<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public int Batch, Parts, Group;
        public T* Work, Weight;
        public long PerPart, LdWeight;
        public RowPointer<T> GradOutput, GradInput;
        public T Beta;

        public readonly void Run(int q0, int q1)
        {
            int m = G.WeightColumns, k = G.OutChannels, pixels = G.OutPixels;
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Samples(Batch, q, Parts);
                T* gathered = Work + q * PerPart, col = gathered + (long)k * Group * pixels;
                for (int b = b0; b < b1; b += Group)
                {
                    int count = Math.Min(Group, b1 - b), n = count * pixels;
                    // gathered[o, s·P + p] ← gradOutput[b + s][o, p]: the group's gradients as one [Cout, count·P] matrix.
                    for (int s = 0; s < count; s++)
                        for (int o = 0; o < k; o++)
                            new ReadOnlySpan<T>(GradOutput[b + s] + (long)o * pixels, pixels).CopyTo(new Span<T>(gathered + (long)o * n + (long)s * pixels, pixels));
                    NativeGemm.Gemm(true, false, m, n, k, T.One, Weight, LdWeight, gathered, n, T.Zero, col, n);
                    for (int s = 0; s < count; s++)
                    {
                        T* dx = GradInput[b + s];
                        Scale(dx, G.InputSize, Beta);
                        Im2Col.ScatterAdd(G, col + (long)s * pixels, n, dx);
                    }
                }
            }
        }
    }

    private struct BackwardWeightSamples<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public int Batch, Parts;
        public T* Columns, GradWeight, Partials;
        public long LdGradWeight;
        public RowPointer<T> Input, GradOutput;
        public T Beta;

        public readonly void Run(int q0, int q1)
        {
            int m = G.OutChannels, n = G.WeightColumns, k = G.OutPixels;
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Samples(Batch, q, Parts);
                T* col = Columns + (long)q * n * k;
                T* acc = q == 0 ? GradWeight : Partials + (long)(q - 1) * m * n;
                long ldAcc = q == 0 ? LdGradWeight : n;
                T beta = q == 0 ? Beta : T.Zero;
                for (int b = b0; b < b1; b++, beta = T.One)
                {
                    if (Columns == null) col = Input[b];
                    else Im2Col.Gather(G, Input[b], col);
                    NativeGemm.Gemm(false, true, m, n, k, T.One, GradOutput[b], k, col, k, beta, acc, ldAcc);
                }
            }
        }
    }

    private struct BiasSums<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Batch, Pixels;
        public RowPointer<T> GradOutput;
        public T* GradBias;
        public T Beta;

        public readonly void Run(int o0, int o1)
        {
            for (int o = o0; o < o1; o++)
            {
                T sum = T.Zero;
                for (int b = 0; b < Batch; b++) sum += Sum(GradOutput[b] + (long)o * Pixels, Pixels);
                GradBias[o] = Beta == T.Zero ? sum : sum + Beta * GradBias[o];
            }
        }

        private static T Sum(T* x, int n)
        {
            int i = 0;
            T sum = T.Zero;
            if (SimdWidth.Current >= VectorWidth.Bits256 && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) acc += Vector256.Load(x + i);
                sum = Vector256.Sum(acc);
            }
            for (; i < n; i++) sum += x[i];
            return sum;
        }
    }
}
