#!/usr/bin/env python3
"""Reference loader for OptEq checkpoints, in numpy (torch is not needed).

Rebuilds a model from an `opteq train` checkpoint (a safetensors file) using only what the file says: the layer
spec in the metadata `opteq.config`, the tensors `model.<layer>.<name>`, and the preprocessing (`inputMean`,
`inputStd`). The equilibrium of an OptEq layer is found by plain fixed-point iteration in float64.

    python3 opteq_load.py --checkpoint runs/mnist-opteq/checkpoint.safetensors --data data/mnist [--json]

prints the test accuracy, which should match `opteq eval --checkpoint … --data …`.

Forward pass (rows are samples; x is [batch, input]):
  preprocessing  x = (pixel / 255 − inputMean) / inputStd, each image flattened row-major
  opteq layer    W = γ·V/‖V‖_F ("frobenius") or γ·V/σ_max(V) ("spectral"); M = WᵀW;
                 z* solves z = σ(z·M + x·Uᵀ + b), unique because ‖M‖₂ ≤ γ² < 1 and σ is a proximal operator
  linear layer   y = x·Wᵀ + bias   (tensors weight [out, in], bias [out])
  activation     y = σ(x)
  prediction     argmax of the last layer's output; for a model trained with `--loss mmc[:C]` (the training record
                 `opteq.training` says so) the nearest Max-Mahalanobis centre, argmax_k <output, mu_k> (docs/math.md §7.9)
Other layer kinds (deep-opteq, idl, mon, deq) are not covered here; docs/math.md describes them.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return metadata, tensors


def read_idx(path):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    rank = raw[3]
    dims = struct.unpack(">" + "i" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw[4 + 4 * rank:], dtype=np.uint8).reshape(dims)


def activation(text):
    name, _, arg = text.partition(":")
    if name == "relu":
        return lambda v: np.maximum(v, 0)
    if name == "leaky-relu":
        slope = float(arg or 0.01)
        return lambda v: np.where(v > 0, v, slope * v)
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda v: 1 / (1 + np.exp(-v))
    if name == "softplus":
        return lambda v: np.logaddexp(0, v)
    if name == "hard-tanh":
        return lambda v: np.clip(v, -1, 1)
    if name == "identity":
        return lambda v: v
    raise SystemExit(f"activation '{text}' is not covered by this loader")


def opteq_equilibrium(x, V, U, b, gamma, norm, sigma, tolerance=1e-9, max_iterations=5000):
    V = V.astype(np.float64)
    scale = np.linalg.norm(V) if norm == "frobenius" else np.linalg.norm(V, 2)
    W = gamma * V / scale
    M = W.T @ W
    c = x @ U.astype(np.float64).T + b.astype(np.float64)
    z = np.zeros_like(c)
    for _ in range(max_iterations):
        z_next = sigma(z @ M + c)
        if np.max(np.linalg.norm(z_next - z, axis=1) / np.maximum(np.linalg.norm(z_next, axis=1), 1e-30)) < tolerance:
            return z_next
        z = z_next
    return z


def mmc_centres(classes, norm):
    """The Max-Mahalanobis centres [classes, classes]: unit simplex by the recursion of docs/math.md §7.9, times C."""
    mu = np.zeros((classes, classes))
    mu[0, 0] = 1
    for i in range(1, classes):
        for j in range(i):
            mu[i, j] = (-1 / (classes - 1) - mu[i, :j] @ mu[j, :j]) / mu[j, j]
        if i < classes - 1:  # the last centre's own coordinate is 0
            mu[i, i] = np.sqrt(abs(1 - mu[i, :i] @ mu[i, :i]))
    return norm * mu


def predict(metadata, logits):
    loss = json.loads(metadata["opteq.training"]).get("loss", "ce") if "opteq.training" in metadata else "ce"
    if loss == "ce":
        return logits.argmax(axis=1)
    name, _, norm = loss.partition(":")
    if name != "mmc":
        raise SystemExit(f"loss '{loss}' is not covered by this loader")
    centres = mmc_centres(logits.shape[1], float(norm or 10))
    return (logits @ centres.T).argmax(axis=1)


def forward(config, tensors, x):
    for layer in config["spec"]["layers"]:
        kind, name = layer["layer"], layer.get("name")
        if kind == "opteq":
            t = lambda k: tensors[f"model.{name}.{k}"]
            x = opteq_equilibrium(x, t("V"), t("U"), t("b"), layer["gamma"], layer["norm"], activation(layer["activation"]))
        elif kind == "linear":
            x = x @ tensors[f"model.{name}.weight"].astype(np.float64).T
            if layer.get("bias", True):
                x = x + tensors[f"model.{name}.bias"]
        elif kind == "activation":
            x = activation(layer["activation"])(x)
        else:
            raise SystemExit(f"layer kind '{kind}' is not covered by this loader")
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True, help="folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or .gz)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    metadata, tensors = read_safetensors(args.checkpoint)
    config = json.loads(metadata["opteq.config"])
    images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64)
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    x = ((x - np.float32(config["inputMean"])) * np.float32(1 / config["inputStd"])).astype(np.float64)
    logits = forward(config, tensors, x)
    predictions = predict(metadata, logits)
    accuracy = float((predictions == labels).mean())
    if args.json:
        print(json.dumps({"accuracy": accuracy, "samples": int(len(labels)), "predictions": predictions.tolist()}))
    else:
        print(f"accuracy {accuracy:.4%} on {len(labels)} test images")


if __name__ == "__main__":
    sys.exit(main())
