"""Hostile command-line table: runs `opteq` on broken files and bad options and classifies every run.

Usage: hostile.py OPTEQ_BINARY WORK_DIR
Each case expects either success (exit 0) or a clear error: exit code 2-5 (see docs/cli.md), an
"opteq: error:" line on stderr and no stack trace. A run past the time limit is a hang; a stack trace
or another exit code is a crash; exit 0 where an error is due is a silent acceptance.
Prints one line per case and the counts; exits 1 when any case is not as expected.
"""
import gzip, json, os, shutil, struct, subprocess, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_data  # noqa: E402

OPTEQ, WORK = sys.argv[1], os.path.abspath(sys.argv[2])
TIMEOUT = 120
SMALL = ["--hidden", "8", "--epochs", "1", "--augment", "0", "--batch", "100"]


def sh(*a):
    return list(a)


def fresh(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def copy_data(name, gz=False):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(WORK, "gz" if gz else "plain"), d)
    return d


# ---- safetensors editing -------------------------------------------------------------------------------------------
def read_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), bytearray(b[8 + n:])


def write_st(path, header, data):
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + bytes(data))


def edit_tensor(src, dst, name, fn):
    header, data = read_st(src)
    b, e = header[name]["data_offsets"]
    values = np.frombuffer(bytes(data[b:e]), dtype=np.float32).copy()
    fn(values)
    data[b:e] = values.tobytes()
    write_st(dst, header, data)
    return dst


def edit_meta(src, dst, fn):
    header, data = read_st(src)
    fn(header["__metadata__"])
    write_st(dst, header, data)
    return dst


def edit_config(src, dst, fn):
    def f(meta):
        config = json.loads(meta["opteq.config"])
        fn(config)
        meta["opteq.config"] = json.dumps(config)
    return edit_meta(src, dst, f)


def main():
    os.makedirs(WORK, exist_ok=True)
    for name, gz in (("plain", False), ("gz", True)):
        shutil.rmtree(os.path.join(WORK, name), ignore_errors=True)
        subprocess.run([sys.executable, make_data.__file__, os.path.join(WORK, name)] + (["--gzip"] if gz else []), check=True)
    run_dir = os.path.join(WORK, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    r = subprocess.run([OPTEQ, "train", "--data", os.path.join(WORK, "plain"), "--out", run_dir] + SMALL, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("could not train the base checkpoint:\n" + r.stdout + r.stderr)
    ckpt = os.path.join(run_dir, "checkpoint.safetensors")
    plain, gzd = os.path.join(WORK, "plain"), os.path.join(WORK, "gz")
    C = os.path.join(WORK, "ckpt")
    os.makedirs(C, exist_ok=True)

    cases = []  # (name, argv, expect) where expect is "ok" or "error"

    def ok(name, *argv): cases.append((name, list(argv), "ok"))
    def err(name, *argv): cases.append((name, list(argv), "error"))

    def train(*extra, data=plain):
        given = {a for a in extra if a.startswith("--")}
        base = [a for i in range(0, len(SMALL), 2) if SMALL[i] not in given for a in SMALL[i:i + 2]]
        return ["train", "--data", data, "--out", os.path.join(WORK, "out-" + str(len(cases)))] + base + list(extra)
    def evaluate(path, data=plain): return ["eval", "--checkpoint", path, "--data", data]
    def solve(path, data=plain): return ["solve", "--checkpoint", path, "--data", data, "--iterations", "5", "--out", os.path.join(WORK, "solve-" + str(len(cases)))]
    def resume(path, *extra): return train("--resume", path, "--epochs", "2", *extra)

    ok("baseline train", *train())
    ok("baseline train on gzip", *train(data=gzd))
    ok("baseline eval", *evaluate(ckpt))
    ok("baseline solve", *solve(ckpt))

    # ---- data files ----
    err("data folder missing", *train(data=os.path.join(WORK, "nowhere")))
    d = copy_data("fifo"); os.remove(os.path.join(d, "train-images-idx3-ubyte")); os.mkfifo(os.path.join(d, "train-images-idx3-ubyte"))
    err("FIFO as image file", *train(data=d))
    d = copy_data("dirfile"); os.remove(os.path.join(d, "train-labels-idx1-ubyte")); os.mkdir(os.path.join(d, "train-labels-idx1-ubyte"))
    err("directory as label file", *train(data=d))
    d = copy_data("devzero"); os.remove(os.path.join(d, "t10k-images-idx3-ubyte")); os.symlink("/dev/zero", os.path.join(d, "t10k-images-idx3-ubyte"))
    err("/dev/zero as image file", *train(data=d))
    d = copy_data("flip"); p = os.path.join(d, "train-labels-idx1-ubyte"); b = bytearray(open(p, "rb").read()); b[8 + 17] = 255; open(p, "wb").write(b)
    err("one label byte flipped to 255", *train(data=d))
    d = copy_data("flipt"); p = os.path.join(d, "t10k-labels-idx1-ubyte"); b = bytearray(open(p, "rb").read()); b[8 + 3] = 10; open(p, "wb").write(b)
    err("test label 10 of 10 classes (eval)", *evaluate(ckpt, data=d))
    d = copy_data("gzgarbage", gz=True); p = os.path.join(d, "train-labels-idx1-ubyte.gz"); open(p, "ab").write(b"garbage!")
    err("gzip: garbage after the member", *train(data=d))
    d = copy_data("gznotrailer", gz=True); p = os.path.join(d, "train-labels-idx1-ubyte.gz"); b = open(p, "rb").read(); open(p, "wb").write(b[:-8])
    err("gzip: trailer missing", *train(data=d))
    d = copy_data("gzcrc", gz=True); p = os.path.join(d, "train-labels-idx1-ubyte.gz"); b = bytearray(open(p, "rb").read()); b[-6] ^= 0xFF; open(p, "wb").write(b)
    err("gzip: CRC wrong", *train(data=d))
    d = copy_data("gzisize", gz=True); p = os.path.join(d, "train-labels-idx1-ubyte.gz"); b = bytearray(open(p, "rb").read()); b[-2] ^= 0x01; open(p, "wb").write(b)
    err("gzip: ISIZE wrong", *train(data=d))
    d = copy_data("gzdeflate", gz=True); p = os.path.join(d, "train-images-idx3-ubyte.gz"); b = bytearray(open(p, "rb").read()); b[40:60] = b"\xff" * 20; open(p, "wb").write(b)
    err("gzip: corrupt deflate data", *train(data=d))
    d = copy_data("gztrunc", gz=True); p = os.path.join(d, "train-images-idx3-ubyte.gz"); b = open(p, "rb").read(); open(p, "wb").write(b[:len(b) // 2])
    err("gzip: truncated in the middle", *train(data=d))
    d = copy_data("const"); p = os.path.join(d, "train-images-idx3-ubyte"); b = bytearray(open(p, "rb").read()); b[16:] = b"\x07" * (len(b) - 16); open(p, "wb").write(b)
    err("constant training images", *train(data=d))
    d = copy_data("emptytest")
    open(os.path.join(d, "t10k-images-idx3-ubyte"), "wb").write(struct.pack(">HBBiii", 0, 8, 3, 0, 8, 8))
    open(os.path.join(d, "t10k-labels-idx1-ubyte"), "wb").write(struct.pack(">HBBi", 0, 8, 1, 0))
    err("empty test set", *train(data=d))
    d = copy_data("bigdims"); p = os.path.join(d, "train-images-idx3-ubyte"); b = bytearray(open(p, "rb").read()); b[4:16] = struct.pack(">iii", 60000, 30000, 30000); open(p, "wb").write(b)
    err("IDX dimensions overflow", *train(data=d))

    # ---- checkpoints ----
    def nan(v): v[0] = np.nan
    def inf(v): v[1] = np.inf
    def zero(v): v[:] = 0
    def neg(v): v[0] = -1
    nanV = edit_tensor(ckpt, os.path.join(C, "nanV.safetensors"), "model.opteq.V", nan)
    err("NaN in V (eval)", *evaluate(nanV))
    err("NaN in V (solve)", *solve(nanV))
    err("NaN in V (resume)", *resume(nanV))
    err("Inf in U (eval)", *evaluate(edit_tensor(ckpt, os.path.join(C, "infU.safetensors"), "model.opteq.U", inf)))
    err("NaN in b (eval)", *evaluate(edit_tensor(ckpt, os.path.join(C, "nanb.safetensors"), "model.opteq.b", nan)))
    err("NaN in head (eval)", *evaluate(edit_tensor(ckpt, os.path.join(C, "nanhead.safetensors"), "model.head.weight", nan)))
    zeroV = edit_tensor(ckpt, os.path.join(C, "zeroV.safetensors"), "model.opteq.V", zero)
    err("all-zero V (eval)", *evaluate(zeroV))
    err("all-zero V (resume)", *resume(zeroV))
    err("negative Adam v (resume)", *resume(edit_tensor(ckpt, os.path.join(C, "negv.safetensors"), "optimizer.opteq.V.adam.v", neg)))
    err("NaN Adam m (resume)", *resume(edit_tensor(ckpt, os.path.join(C, "nanm.safetensors"), "optimizer.head.bias.adam.m", nan)))
    def hidden(c): c["hidden"] = 200000; c["spec"]["layers"][0]["hidden"] = 200000
    err("config hidden 200000 (eval)", *evaluate(edit_config(ckpt, os.path.join(C, "hidden.safetensors"), hidden)))
    def act_null(c): c["activation"] = None; c["spec"]["layers"][0]["activation"] = None
    err("config activation null (eval)", *evaluate(edit_config(ckpt, os.path.join(C, "actnull.safetensors"), act_null)))
    err("config {} (eval)", *evaluate(edit_meta(ckpt, os.path.join(C, "empty.safetensors"), lambda m: m.__setitem__("opteq.config", "{}"))))
    def misspelt(c): c["gamme"] = c.pop("gamma")
    err("config misspelt key (eval)", *evaluate(edit_config(ckpt, os.path.join(C, "misspelt.safetensors"), misspelt)))
    def missing(c): del c["gamma"]; del c["spec"]["layers"][0]["gamma"]
    err("config missing key (eval)", *evaluate(edit_config(ckpt, os.path.join(C, "missing.safetensors"), missing)))
    def gamma2(c): c["gamma"] = 2; c["spec"]["layers"][0]["gamma"] = 2
    err("config gamma 2 (eval)", *evaluate(edit_config(ckpt, os.path.join(C, "gamma2.safetensors"), gamma2)))
    def tanh(c): c["activation"] = "tanh"; c["spec"]["layers"][0]["activation"] = "tanh"
    err("resume a tanh checkpoint into a relu run", *resume(edit_config(ckpt, os.path.join(C, "tanh.safetensors"), tanh)))
    err("opteq.epoch 1e10 (resume)", *resume(edit_meta(ckpt, os.path.join(C, "epochbig.safetensors"), lambda m: m.__setitem__("opteq.epoch", "10000000000"))))
    err("opteq.epoch -1 (resume)", *resume(edit_meta(ckpt, os.path.join(C, "epochneg.safetensors"), lambda m: m.__setitem__("opteq.epoch", "-1"))))
    err("opteq.step -5 (resume)", *resume(edit_meta(ckpt, os.path.join(C, "stepneg.safetensors"), lambda m: m.__setitem__("opteq.step", "-5"))))
    fifo = os.path.join(C, "fifo.safetensors")
    if os.path.exists(fifo): os.remove(fifo)
    os.mkfifo(fifo)
    err("FIFO as checkpoint (eval)", *evaluate(fifo))
    err("FIFO as checkpoint (resume)", *resume(fifo))
    link = os.path.join(C, "fifo-link.safetensors")
    if os.path.lexists(link): os.remove(link)
    os.symlink(fifo, link)
    err("symbolic link to a FIFO as checkpoint (eval)", *evaluate(link))
    err("directory as checkpoint (eval)", *evaluate(C))
    err("/dev/zero as checkpoint (eval)", *evaluate("/dev/zero"))
    err("missing checkpoint (eval)", *evaluate(os.path.join(C, "none.safetensors")))
    err("IDX file as checkpoint (eval)", *evaluate(os.path.join(plain, "train-labels-idx1-ubyte")))
    err("resume of a finished run", *train("--resume", ckpt))
    err("resume with another --lr", *resume(ckpt, "--lr", "0.01"))
    err("resume with another --batch", *train("--resume", ckpt, "--epochs", "2", "--batch", "50"))

    # ---- options ----
    for name, extra in [
        ("--clip -1", ["--clip", "-1"]), ("--clip nan", ["--clip", "nan"]), ("--augment -1", ["--augment", "-1"]), ("--augment 100", ["--augment", "100"]),
        ("--hidden 100000", ["--hidden", "100000"]), ("--hidden 0", ["--hidden", "0"]), ("--hidden -5", ["--hidden", "-5"]),
        ("--lr 0", ["--lr", "0"]), ("--lr -1", ["--lr", "-1"]), ("--lr nan", ["--lr", "nan"]), ("--lr inf", ["--lr", "inf"]),
        ("--forward-iterations 0", ["--forward-iterations", "0"]), ("--backward-iterations -1", ["--backward-iterations", "-1"]),
        ("--forward-tolerance -1", ["--forward-tolerance", "-1"]), ("--forward-tolerance nan", ["--forward-tolerance", "nan"]),
        ("--batch 0", ["--batch", "0"]), ("--epochs 0", ["--epochs", "0"]), ("--gamma 1.5", ["--gamma", "1.5"]), ("--gamma nan", ["--gamma", "nan"]),
        ("--weight-decay -1", ["--weight-decay", "-1"]), ("--weight-decay inf", ["--weight-decay", "inf"]), ("--schedule bogus", ["--schedule", "bogus"]),
        ("--schedule step:0", ["--schedule", "step:0"]), ("--optimizer bogus", ["--optimizer", "bogus"]), ("--device bogus", ["--device", "bogus"]),
        ("--model bogus", ["--model", "bogus"]), ("--activation bogus", ["--activation", "bogus"]), ("--tiers 0 (deep-opteq)", ["--model", "deep-opteq", "--tiers", "0"]),
        ("--layers -1 (mlp)", ["--model", "mlp", "--layers", "-1"]), ("--epochs x", ["--epochs", "x"]), ("--seed 1e3", ["--seed", "1e3"]),
    ]:
        err(name, *train(*extra))
    err("--lr 1e4 diverges", *train("--lr", "1e4", "--epochs", "2"))
    blocker = os.path.join(WORK, "afile"); open(blocker, "w").write("x")
    err("--out under a file", "train", "--data", plain, "--out", os.path.join(blocker, "sub"), *SMALL)
    err("--out is a file", "train", "--data", plain, "--out", blocker, *SMALL)
    err("--out under /proc", "train", "--data", plain, "--out", "/proc/opteq-run", *SMALL)
    err("eval --batch 0", "eval", "--checkpoint", ckpt, "--data", plain, "--batch", "0")
    err("solve --index -1", "solve", "--checkpoint", ckpt, "--data", plain, "--index", "-1")
    err("solve --index 10^6", "solve", "--checkpoint", ckpt, "--data", plain, "--index", "1000000")
    err("solve --iterations 0", "solve", "--checkpoint", ckpt, "--data", plain, "--iterations", "0")
    err("solve --solvers bogus", "solve", "--checkpoint", ckpt, "--data", plain, "--solvers", "bogus")

    counts = {"as expected": 0, "crash": 0, "hang": 0, "silent": 0, "unclear": 0}
    for name, argv, expect in cases:
        try:
            r = subprocess.run([OPTEQ] + argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            counts["hang"] += 1
            print(f"HANG      {name}")
            continue
        trace = "Unhandled exception" in r.stderr or "\n   at " in r.stderr
        line = next((l for l in r.stderr.splitlines() if l.strip()), "")
        if trace or r.returncode not in (0, 2, 3, 4, 5):
            verdict = "crash"
        elif expect == "ok":
            verdict = "as expected" if r.returncode == 0 else "unclear"
        elif r.returncode == 0:
            verdict = "silent"
        else:
            # Clear: a message that names the problem, without the framework's "(Parameter 'x')" tail.
            verdict = "as expected" if line and "(Parameter '" not in r.stderr else "unclear"
        counts[verdict] += 1
        tag = {"as expected": "ok", "crash": "CRASH", "silent": "SILENT", "unclear": "UNCLEAR"}[verdict]
        print(f"{tag:9} {name:45} exit {r.returncode}  {line[:240] if expect == 'error' or verdict != 'as expected' else ''}")
    print(f"\n{len(cases)} cases: {counts['as expected']} as expected, {counts['crash']} crashes, {counts['hang']} hangs, "
          f"{counts['silent']} silently accepted, {counts['unclear']} unclear")
    sys.exit(0 if counts["as expected"] == len(cases) else 1)


if __name__ == "__main__":
    main()
