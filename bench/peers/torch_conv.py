#!/usr/bin/env python3
"""The PyTorch peer of `opteq bench conv`: times torch.nn.functional.conv2d / avg_pool2d and their autograd backwards.

Runs as a server so that opteq can alternate its own timing with this one, shape by shape, in the same run: prints one
JSON line describing itself, then answers each JSON request read from stdin with one JSON line.

Request (conv): {"kind": "conv", "batch", "cin", "h", "w", "cout", "kh", "kw", "stride", "padding", "circular",
                 "pass": "forward" | "backward-input" | "backward-weight", "reps", "warmup"}
Request (pool): {"kind": "pool", "batch", "c", "h", "w", "k", "stride", "pass": "forward" | "backward", "reps", "warmup"}
Request (gram): {"kind": "gram", "batch", "c", "h", "w", "k", "method": "convs" | "fourier" | "fourier-refresh", "reps", "warmup"}
    WᵀW·x for a stride-1 circular convolution W (c → c channels, k×k, padding (k − 1)/2), as `opteq bench gram` times
    it: "convs" is conv2d then conv_transpose2d (the transposed convolution of the circularly padded input, folded back
    onto the image: the adjoint of the circular pad); "fourier" is rfft2, one complex c×c product per frequency
    (einsum) and irfft2 with the spectrum precomputed; "fourier-refresh" computes that spectrum from the kernel. Each
    is checked once against autograd's WᵀW (the input gradient of ½||Wx||²) before timing; a mismatch exits with 4.
Answer: {"ms": median milliseconds of one call over reps timed calls, "times": the milliseconds of each timed call}

With --device cuda every tensor lives on the first CUDA GPU (cuDNN's convolutions) and each timed call ends with
torch.cuda.synchronize(), as opteq times a CUDA device: wall-clock time of one call run to completion.

Circular padding is F.pad(mode="circular") followed by an unpadded conv2d, as nn.Conv2d(padding_mode="circular")
does it; the pad is timed with the convolution. The backward passes run torch.autograd.grad on one recorded forward
graph (retain_graph), with only the input (backward-input) or only the weight (backward-weight) requiring a gradient.
Exit code 3 when PyTorch is missing, 5 when --device cuda is asked for and PyTorch sees no CUDA GPU.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as nnf
except ImportError:
    print("PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)


DEVICE = torch.device("cpu")


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def times_ms(call, reps, warmup):
    """Milliseconds of each of reps timed calls, after warmup untimed ones."""
    for _ in range(warmup):
        call()
    sync()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def randn(*shape, generator):
    """Drawn on the CPU (the same numbers on every device), then moved to DEVICE."""
    return torch.randn(*shape, generator=generator).to(DEVICE)


def conv(r):
    g = torch.Generator().manual_seed(0)
    x = randn(r["batch"], r["cin"], r["h"], r["w"], generator=g)
    w = randn(r["cout"], r["cin"], r["kh"], r["kw"], generator=g) * 0.1
    b = randn(r["cout"], generator=g)
    p, s = r["padding"], r["stride"]

    def forward(x, w):
        if r["circular"] and p > 0:
            return nnf.conv2d(nnf.pad(x, (p, p, p, p), mode="circular"), w, b, stride=s)
        return nnf.conv2d(x, w, b, stride=s, padding=p)

    if r["pass"] == "forward":
        with torch.no_grad():
            return times_ms(lambda: forward(x, w), r["reps"], r["warmup"])
    wrt = x if r["pass"] == "backward-input" else w
    wrt.requires_grad_(True)
    y = forward(x, w)
    gy = randn(y.shape, generator=g)
    return times_ms(lambda: torch.autograd.grad(y, wrt, gy, retain_graph=True), r["reps"], r["warmup"])


def pool(r):
    g = torch.Generator().manual_seed(0)
    x = randn(r["batch"], r["c"], r["h"], r["w"], generator=g)
    if r["pass"] == "forward":
        with torch.no_grad():
            return times_ms(lambda: nnf.avg_pool2d(x, r["k"], r["stride"]), r["reps"], r["warmup"])
    x.requires_grad_(True)
    y = nnf.avg_pool2d(x, r["k"], r["stride"])
    gy = randn(y.shape, generator=g)
    return times_ms(lambda: torch.autograd.grad(y, x, gy, retain_graph=True), r["reps"], r["warmup"])


def circular_conv(x, w, p):
    return nnf.conv2d(nnf.pad(x, (p, p, p, p), mode="circular"), w) if p > 0 else nnf.conv2d(x, w)


def fold_circular(z, p, h, w):
    """The adjoint of F.pad(mode="circular") by p: each padded row and column is added back onto the pixel it copied."""
    if p == 0:
        return z
    z = z.clone()
    z[..., p:2 * p, :] += z[..., h + p:h + 2 * p, :]   # rows copied from the top, padded at the bottom
    z[..., h:h + p, :] += z[..., 0:p, :]               # rows copied from the bottom, padded at the top
    z = z[..., p:h + p, :]
    z[..., :, p:2 * p] += z[..., :, w + p:w + 2 * p]
    z[..., :, w:w + p] += z[..., :, 0:p]
    return z[..., :, p:w + p]


def gram_spectrum(kernel, h, w):
    """K̂(u, v) = Ŵ(u, v)ᴴŴ(u, v), [h, w//2 + 1, c, c], Ŵ the DFT of the kernel placed at its padding offset (circularly)."""
    cout, cin, k, _ = kernel.shape
    p = (k - 1) // 2
    placed = torch.zeros(cout, cin, h, w, dtype=kernel.dtype, device=kernel.device)
    for i in range(k):
        for j in range(k):
            placed[:, :, (i - p) % h, (j - p) % w] += kernel[:, :, i, j]
    # The convolution is a correlation: y = Σ_tap w·x(r − p + i), so Ŵ(u, v) = conj(DFT of the placed kernel).
    what = torch.conj(torch.fft.rfft2(placed))                  # [cout, cin, h, wf]
    return torch.einsum("oihw,ojhw->hwij", torch.conj(what), what)


def gram(r):
    g = torch.Generator().manual_seed(0)
    c, h, w, k = r["c"], r["h"], r["w"], r["k"]
    p = (k - 1) // 2
    kernel = randn(c, c, k, k, generator=g) * (1.0 / (c * k * k)) ** 0.5

    def convs(x):
        return fold_circular(nnf.conv_transpose2d(circular_conv(x, kernel, p), kernel), p, h, w)

    def fourier(x, spectrum):
        xf = torch.fft.rfft2(x)
        return torch.fft.irfft2(torch.einsum("hwij,bjhw->bihw", spectrum, xf), s=(h, w))

    # Check both against autograd's WᵀW on a small batch before timing anything.
    probe = randn(2, c, h, w, generator=g).double()
    k64 = kernel.double()
    probe.requires_grad_(True)
    expected = torch.autograd.grad(0.5 * circular_conv(probe, k64, p).pow(2).sum(), probe)[0]
    probe = probe.detach()
    got_convs = fold_circular(nnf.conv_transpose2d(circular_conv(probe, k64, p), k64), p, h, w)
    got_fourier = torch.fft.irfft2(torch.einsum("hwij,bjhw->bihw", gram_spectrum(k64, h, w), torch.fft.rfft2(probe)), s=(h, w))
    scale = expected.abs().max().item() + 1e-300
    for name, got in (("convs", got_convs), ("fourier", got_fourier)):
        err = (got - expected).abs().max().item()
        if not err <= 1e-9 * scale:
            print(f"gram peer: {name} differs from autograd's WᵀW by {err:.3e} (scale {scale:.3e})", file=sys.stderr)
            sys.exit(4)

    x = randn(r["batch"], c, h, w, generator=g)
    with torch.no_grad():
        if r["method"] == "convs":
            return times_ms(lambda: convs(x), r["reps"], r["warmup"])
        if r["method"] == "fourier-refresh":
            return times_ms(lambda: gram_spectrum(kernel, h, w), r["reps"], r["warmup"])
        spectrum = gram_spectrum(kernel, h, w)
        return times_ms(lambda: fourier(x, spectrum), r["reps"], r["warmup"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    global DEVICE
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print(f"PyTorch {torch.__version__} sees no CUDA GPU", file=sys.stderr)
            sys.exit(5)
        DEVICE = torch.device("cuda:0")
    hello = {"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
             "mkldnn": torch.backends.mkldnn.is_available(), "device": args.device}
    if args.device == "cuda":
        hello["gpu"] = torch.cuda.get_device_name(0)
        hello["cudnn"] = torch.backends.cudnn.version()
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        times = {"conv": conv, "pool": pool, "gram": gram}[request["kind"]](request)
        print(json.dumps({"ms": statistics.median(times), "times": times}), flush=True)


if __name__ == "__main__":
    main()
