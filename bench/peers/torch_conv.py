#!/usr/bin/env python3
"""The PyTorch peer of `opteq bench conv`: times torch.nn.functional.conv2d / avg_pool2d and their autograd backwards.

Runs as a server so that opteq can alternate its own timing with this one, shape by shape, in the same run: prints one
JSON line describing itself, then answers each JSON request read from stdin with one JSON line.

Request (conv): {"kind": "conv", "batch", "cin", "h", "w", "cout", "kh", "kw", "stride", "padding", "circular",
                 "pass": "forward" | "backward-input" | "backward-weight", "reps", "warmup"}
Request (pool): {"kind": "pool", "batch", "c", "h", "w", "k", "stride", "pass": "forward" | "backward", "reps", "warmup"}
Answer: {"ms": median milliseconds of one call over reps timed calls}

Circular padding is F.pad(mode="circular") followed by an unpadded conv2d, as nn.Conv2d(padding_mode="circular")
does it; the pad is timed with the convolution. The backward passes run torch.autograd.grad on one recorded forward
graph (retain_graph), with only the input (backward-input) or only the weight (backward-weight) requiring a gradient.
Exit code 3 when PyTorch is missing.
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


def median_ms(call, reps, warmup):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def conv(r):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(r["batch"], r["cin"], r["h"], r["w"], generator=g)
    w = torch.randn(r["cout"], r["cin"], r["kh"], r["kw"], generator=g) * 0.1
    b = torch.randn(r["cout"], generator=g)
    p, s = r["padding"], r["stride"]

    def forward(x, w):
        if r["circular"] and p > 0:
            return nnf.conv2d(nnf.pad(x, (p, p, p, p), mode="circular"), w, b, stride=s)
        return nnf.conv2d(x, w, b, stride=s, padding=p)

    if r["pass"] == "forward":
        with torch.no_grad():
            return median_ms(lambda: forward(x, w), r["reps"], r["warmup"])
    wrt = x if r["pass"] == "backward-input" else w
    wrt.requires_grad_(True)
    y = forward(x, w)
    gy = torch.randn(y.shape, generator=g)
    return median_ms(lambda: torch.autograd.grad(y, wrt, gy, retain_graph=True), r["reps"], r["warmup"])


def pool(r):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(r["batch"], r["c"], r["h"], r["w"], generator=g)
    if r["pass"] == "forward":
        with torch.no_grad():
            return median_ms(lambda: nnf.avg_pool2d(x, r["k"], r["stride"]), r["reps"], r["warmup"])
    x.requires_grad_(True)
    y = nnf.avg_pool2d(x, r["k"], r["stride"])
    gy = torch.randn(y.shape, generator=g)
    return median_ms(lambda: torch.autograd.grad(y, x, gy, retain_graph=True), r["reps"], r["warmup"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "mkldnn": torch.backends.mkldnn.is_available()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        ms = conv(request) if request["kind"] == "conv" else pool(request)
        print(json.dumps({"ms": ms}), flush=True)


if __name__ == "__main__":
    main()
