"""Writes a tiny MNIST-shaped IDX dataset (8x8 images, 10 classes) for quick hostile runs and tests.

Usage: make_data.py OUT_DIR [--train N] [--test N] [--gzip]
Images are class-dependent blobs plus noise, so a few epochs of training learn them.
"""
import gzip, os, struct, sys
import numpy as np

def write_idx(path, array, gz):
    dims = array.shape
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + b"".join(struct.pack(">i", d) for d in dims)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path + ".gz", "wb") as f: f.write(data)
    else:
        with open(path, "wb") as f: f.write(data)

def make(n, rng, side=8, classes=10):
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, side, side))
    for i, c in enumerate(labels):
        r, q = divmod(int(c), 4)
        images[i, 2 * r:2 * r + 3, 2 * q:2 * q + 3] += 180
    return np.clip(images, 0, 255), labels

def main():
    out = sys.argv[1]
    args = sys.argv[2:]
    n_train = int(args[args.index("--train") + 1]) if "--train" in args else 600
    n_test = int(args[args.index("--test") + 1]) if "--test" in args else 200
    gz = "--gzip" in args
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = make(n, rng)
        write_idx(os.path.join(out, f"{prefix}-images-idx3-ubyte"), images, gz)
        write_idx(os.path.join(out, f"{prefix}-labels-idx1-ubyte"), labels, gz)

if __name__ == "__main__":
    main()
