#!/usr/bin/env python3
"""The PyTorch peer of `opteq bench step --model conv-opteq | conv-mon`: the same convolutional equilibrium training step.

One step: the input convolution c = U∗x + b, a forward fixed point found without autograd by a fixed number of solver
iterations (tolerance 0, so both sides do the same work), one application of the map on the tape, an implicit backward
whose adjoint w = (∂f/∂z)ᵀw + g is solved by the same number of Anderson iterations of autograd vector-Jacobian
products, 4×4 average pooling, a linear head, cross-entropy and Adam.

  conv-opteq: f(z) = relu(Wᵀ(W z) + c), W a k×k convolution C → C scaled to ||W||₂ ≈ γ by power iteration on the
              convolution operator (one iteration per step, warm-started, as spectral normalisation does); Anderson.
  conv-mon:   W z = (1 − m)z − Aᵀ(A z) + B z − Bᵀ z with k×k convolutions A, B (the monotone operator network's
              single-convolution form); forward–backward splitting z ← relu((1 − α)z + α(W z + c)).

The input convolution has stride --injection-stride; W's convolutions keep the state's size (padding (k − 1)/2, zero
or circular). The Anderson solver is torch_deq_step.py's.
With --device cuda everything lives on the first CUDA GPU (torch.set_default_device); each step ends with loss.item(),
which waits for the GPU, so a step is timed to completion as opteq's are.
Prints one JSON line: {"peer": "pytorch", "ms_per_step": <median>, ...}. Exit code 3 when PyTorch is missing, 5 when
--device cuda is asked for and PyTorch sees no CUDA GPU.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as nnf
except ImportError:
    print("PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_deq_step import anderson  # noqa: E402  (the same solver as the dense peer)


class Convolution:
    """k×k convolution C → C keeping the size, zero or circular padding, and its adjoint (the transposed convolution)."""

    def __init__(self, kernel, circular):
        self.pad = (kernel - 1) // 2
        self.circular = circular

    def apply(self, z, w):
        if self.circular:
            return nnf.conv2d(nnf.pad(z, (self.pad,) * 4, mode="circular"), w)
        return nnf.conv2d(z, w, padding=self.pad)

    def adjoint(self, y, w):
        if self.circular:  # the adjoint of a circular convolution is the circular correlation with the flipped, transposed kernel
            return nnf.conv2d(nnf.pad(y, (self.pad,) * 4, mode="circular"), w.transpose(0, 1).flip(2, 3))
        return nnf.conv_transpose2d(y, w, padding=self.pad)


def forward_backward(f_step, z0, iterations):
    z = z0
    for _ in range(iterations):
        z = f_step(z)
    return z


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["conv-opteq", "conv-mon"], default="conv-opteq")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (0: all cores)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=28, help="image height = width")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--padding", choices=["zero", "circular"], default="zero")
    parser.add_argument("--injection-stride", type=int, default=2)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=20, help="forward solver iterations (tolerance 0)")
    parser.add_argument("--adjoint-iterations", type=int, default=20)
    parser.add_argument("--memory", type=int, default=5)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--margin", type=float, default=1.0, help="conv-mon's m")
    parser.add_argument("--alpha", type=float, default=0.25, help="conv-mon's forward–backward step")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print(f"PyTorch {torch.__version__} sees no CUDA GPU", file=sys.stderr)
            sys.exit(5)
        torch.set_default_device("cuda")

    torch.manual_seed(0)
    n, c, k, s, classes = args.batch, args.channels, args.kernel_size, args.size, 10
    conv = Convolution(k, args.padding == "circular")
    injection = torch.nn.Conv2d(1, c, k, stride=args.injection_stride, padding=(k - 1) // 2, padding_mode="circular" if conv.circular else "zeros")
    state = (s + 2 * ((k - 1) // 2) - k) // args.injection_stride + 1
    pooled = state // args.pool
    head = torch.nn.Linear(c * pooled * pooled, classes)
    scale = 1 / (c * k * k) ** 0.5
    if args.model == "conv-opteq":
        kernels = [torch.nn.Parameter(torch.randn(c, c, k, k) * scale)]
    else:
        kernels = [torch.nn.Parameter(torch.randn(c, c, k, k) * scale) for _ in range(2)]
    optimizer = torch.optim.Adam([*kernels, *injection.parameters(), *head.parameters()], lr=1e-3)
    x = torch.rand(n, 1, s, s)
    labels = torch.arange(n) % classes
    power_vector = torch.randn(1, c, s, s)

    def operator_norm_step(w):
        """One warm-started power iteration on WᵀW: returns ||W v|| for the unit v (an estimate of ||W||₂, from below)."""
        nonlocal power_vector
        with torch.no_grad():
            v = conv.adjoint(conv.apply(power_vector, w), w)
            power_vector = v / v.norm()
        return conv.apply(power_vector, w).norm()

    def step():
        optimizer.zero_grad()
        bias = injection(x)
        shape = bias.shape
        if args.model == "conv-opteq":
            w = args.gamma * kernels[0] / operator_norm_step(kernels[0])
            f = lambda z: torch.relu(conv.adjoint(conv.apply(z.view(shape), w), w) + bias).view(n, -1)
            with torch.no_grad():
                z = anderson(f, torch.zeros(n, bias[0].numel()), args.iterations, m=args.memory)
        else:
            a, b = kernels

            def affine(z):
                z = z.view(shape)
                return ((1 - args.margin) * z - conv.adjoint(conv.apply(z, a), a) + conv.apply(z, b) - conv.adjoint(z, b) + bias).view(n, -1)

            f = lambda z: torch.relu(affine(z))
            step_fb = lambda z: torch.relu((1 - args.alpha) * z + args.alpha * affine(z))
            with torch.no_grad():
                z = forward_backward(step_fb, torch.zeros(n, bias[0].numel()), args.iterations)
        z = z.requires_grad_()
        fz = f(z)                                   # one application on the tape: the graph the adjoint needs

        def implicit_backward(grad):
            handle.remove()                         # the VJPs below go through fz again
            vjp = lambda u: torch.autograd.grad(fz, z, u, retain_graph=True)[0] + grad
            return anderson(vjp, torch.zeros_like(grad), args.adjoint_iterations, m=args.memory)

        handle = fz.register_hook(implicit_backward)
        logits = head(nnf.avg_pool2d(fz.view(shape), args.pool).flatten(1))
        loss = nnf.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "model": args.model,
                      "device": args.device, "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
                      "ms_per_step": round(statistics.median(times), 3), "mean_ms_per_step": round(statistics.mean(times), 3),
                      "steps": args.steps, "warm_up_steps": args.warmup,
                      "parameters": sum(p.numel() for p in [*kernels, *injection.parameters(), *head.parameters()])}))


if __name__ == "__main__":
    main()
