#!/usr/bin/env python3
"""Times `nw predict` against NumPy on the same files, in the same run, and prints the ratio.

    python3 scripts/compare_numpy.py --nw .build/release/nw [--n 100000] [--d 1] [--h 0.5] [--reps 3] [-- extra nw args]

NumPy variants (all float64, all max-shifted softmax, as in the chapter):
  chapter  the chapter's formulation: the whole m x n attention matrix at once
           (skipped when it would need more than --max-gib of memory);
  chunked  the best plain NumPy: blocks of queries sized to ~32 MB of logits, logits (2 q.k - |k|^2)/2h^2 by a matrix
           product (|q|^2 cancels in the softmax), max-shifted exp, a matrix-vector product.
Each is checked against the other and against nw's output. Needs numpy (pip install numpy).
The machine is shared and noisy: compare ratios from one run, not absolute times across runs."""
import argparse, os, statistics, subprocess, sys, tempfile, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--nw", required=True)
ap.add_argument("--n", type=int, default=100000)
ap.add_argument("--d", type=int, default=1)
ap.add_argument("--h", type=float, default=0.5)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--max-gib", type=float, default=8.0)
ap.add_argument("extra", nargs="*")
a = ap.parse_args()

n, d, h = a.n, a.d, a.h
rng = np.random.default_rng([1, n, d])
x = rng.uniform(0.0, 5.0, size=(n, d))
y = 2.0 * np.sin(x[:, 0]) + x[:, 0] + rng.normal(0.0, 0.5, size=n)
q = rng.uniform(0.0, 5.0, size=(n, d))
tmp = tempfile.mkdtemp()
cols = [f"x{j}" for j in range(d)]
np.savetxt(f"{tmp}/train.csv", np.column_stack([x, y]), delimiter=",", header=",".join(cols + ["y"]), comments="", fmt="%.17g")
np.savetxt(f"{tmp}/query.csv", q, delimiter=",", header=",".join(cols), comments="", fmt="%.17g")


def timed(f):
    ts, out = [], None
    for _ in range(a.reps):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def chapter(q, x, y):
    # attention_weights = softmax(-(X_repeat - x_train)**2 / 2) over keys, then a matrix product.
    logits = -((q[:, None, :] - x[None, :, :]) ** 2).sum(-1) / (2 * h * h)
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    return (w @ y) / w.sum(axis=1)


def chunked(q, x, y):
    size = max(1, (1 << 22) // len(x))
    k2 = (x * x).sum(1)
    out = []
    for i in range(0, len(q), size):
        logits = (2.0 * (q[i:i + size] @ x.T) - k2) / (2 * h * h)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        out.append((logits @ y) / logits.sum(axis=1))
    return np.concatenate(out)


def run_nw():
    r = subprocess.run([a.nw, "predict", "--train", f"{tmp}/train.csv", "--query", f"{tmp}/query.csv", "--kernel", "gaussian",
                        "--bandwidth", repr(h), "--output", f"{tmp}/out.csv"] + a.extra, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nw predict failed: " + r.stderr.strip())
    return np.loadtxt(f"{tmp}/out.csv", delimiter=",", skiprows=1, usecols=[d])


t_nw, got = timed(run_nw)
pairs = float(n) * n
results = [("nw predict (whole process, CSV in and out)", t_nw)]
t_chunk, ref = timed(lambda: chunked(q, x, y))
results.append(("NumPy chunked (compute only)", t_chunk))
matrix_gib = n * n * d * 8 / 2**30
if matrix_gib <= a.max_gib:
    t_chap, chap = timed(lambda: chapter(q, x, y))
    results.append(("NumPy chapter, whole matrix (compute only)", t_chap))
    assert np.max(np.abs(chap - ref)) <= 1e-6 * np.max(np.abs(y))
else:
    print(f"NumPy chapter formulation skipped: its {n}x{n}x{d} difference tensor needs {matrix_gib:.1f} GiB")
err = float(np.max(np.abs(got - ref)) / np.max(np.abs(y)))
print(f"n=m={n} d={d} h={h}, {a.reps} reps, median:")
for name, t in results:
    print(f"  {name:45s} {t:8.3f} s  {pairs / t:9.3g} pairs/s  ratio to nw {t / t_nw:6.2f}")
print(f"  max |nw - NumPy| / max|y| = {err:.1e}")
