#!/usr/bin/env python3
"""The PyTorch peer of `opteq bench step`: the same OptEq training step, written the way TorchDEQ runs it.

Batch 128, input 784, hidden 512, ReLU, z = relu(z·WᵀW + U·x + b) with W = 0.95·V/||V||_F; 30 Anderson forward
evaluations (tolerance 0), an implicit backward whose adjoint w = (∂f/∂z)ᵀw + g is solved by 30 Anderson evaluations of
autograd vector-Jacobian products; a linear head, cross-entropy and Adam. The Anderson solver follows TorchDEQ's
anderson_solver (type II: the Gram matrix of the last m residuals rebuilt by bmm every iteration, a bordered system
solved with torch.linalg.solve, the lowest-residual iterate kept, the stopping test read on the host every iteration);
the backward is TorchDEQ's IFT hook. TorchDEQ itself is on PyPI, which this machine cannot reach, so this file is an
independent implementation of those two algorithms against plain PyTorch (Debian's python3-torch).

Prints one JSON line: {"peer": "pytorch", "ms_per_step": ..., ...}. Exit code 3 when PyTorch is missing.
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as nnf
except ImportError:
    print("PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)


def anderson(f, x0, evaluations, m=5, lam=1e-4, tol=0.0):
    """Fixed point of f from x0 with `evaluations` calls of f; returns f(x) of the lowest-residual iterate x."""
    batch, dim = x0.shape
    xs = x0.new_zeros(batch, m, dim)       # iterates
    fs = x0.new_zeros(batch, m, dim)       # their images
    xs[:, 0], fs[:, 0] = x0, f(x0)
    xs[:, 1], fs[:, 1] = fs[:, 0], f(fs[:, 0])
    bordered = x0.new_zeros(batch, m + 1, m + 1)
    bordered[:, 0, 1:] = 1
    bordered[:, 1:, 0] = 1
    rhs = x0.new_zeros(batch, m + 1, 1)
    rhs[:, 0] = 1
    ridge = lam * torch.eye(m, dtype=x0.dtype)
    best = fs[:, 1].clone()
    best_residual = (fs[:, 1] - xs[:, 1]).norm(dim=1)
    for k in range(2, evaluations):
        n = min(k, m)
        g = fs[:, :n] - xs[:, :n]
        bordered[:, 1:n + 1, 1:n + 1] = torch.bmm(g, g.transpose(1, 2)) + ridge[None, :n, :n]
        alpha = torch.linalg.solve(bordered[:, :n + 1, :n + 1], rhs[:, :n + 1])[:, 1:n + 1, 0]
        slot = k % m
        xs[:, slot] = (alpha[:, None] @ fs[:, :n])[:, 0]
        fs[:, slot] = f(xs[:, slot])
        residual = (fs[:, slot] - xs[:, slot]).norm(dim=1)
        improved = residual < best_residual
        best_residual = torch.where(improved, residual, best_residual)
        best = torch.where(improved[:, None], fs[:, slot], best)
        if bool(best_residual.max() < tol):   # the per-iteration stopping test (never true at tol = 0)
            break
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    else:
        import os
        torch.set_num_threads(os.cpu_count() or 1)

    torch.manual_seed(0)
    batch, inputs, hidden, classes, evaluations, memory, gamma = 128, 784, 512, 10, 30, 5, 0.95
    v = torch.nn.Parameter(torch.randn(hidden, hidden) / hidden ** 0.5)
    injection = torch.nn.Linear(inputs, hidden)
    head = torch.nn.Linear(hidden, classes)
    optimizer = torch.optim.Adam([v, *injection.parameters(), *head.parameters()], lr=1e-3)
    x = torch.rand(batch, inputs)
    labels = torch.arange(batch) % classes

    def step():
        optimizer.zero_grad()
        w = gamma * v / v.norm()
        metric = w.t() @ w
        c = injection(x)
        f = lambda z: torch.relu(z @ metric + c)
        with torch.no_grad():
            z = anderson(f, torch.zeros(batch, hidden), evaluations, m=memory)
        z = z.requires_grad_()
        fz = f(z)                                   # one application on the tape: the graph the adjoint needs

        def implicit_backward(grad):
            handle.remove()                         # the VJPs below go through fz again
            vjp = lambda u: torch.autograd.grad(fz, z, u, retain_graph=True)[0] + grad
            return anderson(vjp, torch.zeros_like(grad), evaluations, m=memory)

        handle = fz.register_hook(implicit_backward)
        loss = nnf.cross_entropy(head(fz), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    ms = (time.perf_counter() - start) * 1000 / args.steps
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "ms_per_step": round(ms, 3), "steps": args.steps, "warm_up_steps": args.warmup}))


if __name__ == "__main__":
    main()
