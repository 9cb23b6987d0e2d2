#!/usr/bin/env python3
"""Times whole-process `nw predict` on embeddings against NumPy's matrix multiply, in one run.

The target: exact `dot` and `gaussian`, float32, n = m = 2*10^4, d = 256: the whole
`nw predict` process within 1.5x of the time NumPy's SGEMM (OpenBLAS) takes to form Q K^T
alone; float64 within 1.5x of DGEMM.

    NW_TARGET_CPU=native swift build -c release --product nw && python3 Benchmarks/embedding_gemm.py

Options: --nw PATH (default .build/release/nw), --n, --m, --d (default 20000, 20000, 256),
--repeats (3), --kernels (dot,gaussian), --precisions (single,double), --threads (all cores),
--bandwidth (0.25: logits q.k/h^2 and -|q-k|^2/2h^2 of unit spread). Needs numpy;
threadpoolctl (pip install threadpoolctl) makes it name the OpenBLAS kernel in use.

Keys and queries are seeded standard normal / sqrt(d) (unit norm on average), values n x 1
uniform in [1, 2) so that relative errors mean something; K.npy, Q.npy and V.npy go to a
temporary directory in float32 for single and float64 for double. The GEMM, Q @ K.T into a
preallocated m x n array, runs in a separate Python process whose environment lacks
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on some machines; they slow current NumPy), with
as many BLAS threads as nw gets. Both timings are medians of --repeats, interleaved because the
machine is shared and noisy: compare ratios from one run, not absolute times across runs.
nw's time is the wall time of the whole process, reading .npy and writing .npy included.
Then the first 200 queries of each result are checked against an exact float64 softmax pooling
(log-sum-exp); the script exits 1 if an error exceeds 1e-3 (single) or 1e-9 (double).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

CHECKED_QUERIES = 200
TOLERANCE = {"single": 1e-3, "double": 1e-9}
DTYPE = {"single": np.float32, "double": np.float64}
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# The GEMM process: loads Q and K in both precisions, prints a JSON line describing its BLAS,
# then for each line "single" or "double" on stdin times one Q @ K.T and prints the seconds.
GEMM_WORKER = r"""
import io, json, sys, time
import numpy as np
folder = sys.argv[1]
data = {p: (np.load(f"{folder}/Q-{p}.npy"), np.load(f"{folder}/K-{p}.npy"))
        for p in ("single", "double")}
m, n = len(data["double"][0]), len(data["double"][1])
buffer = np.zeros(m * n, dtype=np.float64)  # touched once, so no page faults are timed
out = {"double": buffer.reshape(m, n),
       "single": np.frombuffer(buffer, dtype=np.float32, count=m * n).reshape(m, n)}
for p, (q, k) in data.items():
    np.matmul(q[:256], k[:256].T)  # starts the BLAS threads
try:
    from threadpoolctl import threadpool_info
    info = {"source": "threadpoolctl",
            "pools": [x for x in threadpool_info() if x.get("user_api") == "blas"]}
except ImportError:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except TypeError:  # NumPy 1.x: show_config only prints
        text = io.StringIO()
        stdout, sys.stdout = sys.stdout, text
        np.show_config()
        sys.stdout = stdout
        blas = {"show_config": " | ".join(text.getvalue().split("\n")[:12])}
    info = {"source": "numpy.show_config", "blas": blas}
info["numpy"] = np.__version__
print(json.dumps(info, default=str), flush=True)
for line in sys.stdin:
    p = line.strip()
    q, k = data[p]
    start = time.perf_counter()
    np.matmul(q, k.T, out=out[p])
    print(time.perf_counter() - start, flush=True)
"""


def cpu_description():
    """The CPU's model name and whether it has AVX-512F, from /proc/cpuinfo."""
    model, avx512f = "unknown", False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown":
                    model = value.strip()
                elif key.strip() == "flags":
                    avx512f = avx512f or "avx512f" in value.split()
    except OSError:
        pass
    return model, avx512f


def describe_blas(info, threads):
    """One line per BLAS library the GEMM process loaded."""
    if info["source"] == "threadpoolctl":
        lines = [f"{x.get('internal_api')} {x.get('version')}, kernel "
                 f"{x.get('architecture')}, {x.get('num_threads')} threads, threading "
                 f"{x.get('threading_layer')} ({x.get('filepath')})" for x in info["pools"]]
        return lines or ["threadpoolctl found no BLAS library"]
    blas = info["blas"]
    keys = ("name", "version", "openblas configuration", "show_config")
    detail = "; ".join(f"{k}: {blas[k]}" for k in keys if k in blas) or str(blas)
    return [detail, f"kernel unknown (pip install threadpoolctl); OPENBLAS_NUM_THREADS={threads}"]


def reference(q, k, v, kernel, h):
    """Exact attention pooling in float64 by log-sum-exp: rows of softmax(logits) @ v."""
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    products = q @ k.T
    if kernel == "dot":
        logits = products / (h * h)
    else:
        squares = (q * q).sum(1)[:, None] + (k * k).sum(1)[None, :] - 2 * products
        logits = -np.maximum(squares, 0) / (2 * h * h)
    top = logits.max(axis=1, keepdims=True)
    weights = np.exp(logits - top)
    return (weights @ v) / weights.sum(axis=1, keepdims=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nw", default=".build/release/nw")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--m", type=int, default=20000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kernels", default="dot,gaussian")
    parser.add_argument("--precisions", default="single,double")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--bandwidth", type=float, default=0.25)
    args = parser.parse_args()
    kernels = args.kernels.split(",")
    precisions = args.precisions.split(",")
    n, m, d, h = args.n, args.m, args.d, args.bandwidth
    if not os.access(args.nw, os.X_OK):
        sys.exit(f"embedding_gemm: {args.nw} is not an executable; build it first: "
                 "NW_TARGET_CPU=native swift build -c release --product nw")

    rng = np.random.default_rng([20000, n, m, d])
    keys = rng.standard_normal((n, d)) / np.sqrt(d)
    queries = rng.standard_normal((m, d)) / np.sqrt(d)
    values = rng.uniform(1.0, 2.0, size=(n, 1))

    with tempfile.TemporaryDirectory(prefix="nw-embedding-gemm-") as folder:
        for p in ("single", "double"):
            for name, array in (("K", keys), ("Q", queries), ("V", values)):
                np.save(f"{folder}/{name}-{p}.npy", array.astype(DTYPE[p]))

        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.threads)
        worker = subprocess.Popen([sys.executable, "-c", GEMM_WORKER, folder], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        blas_info = json.loads(worker.stdout.readline())

        def gemm(p):
            worker.stdin.write(p + "\n")
            worker.stdin.flush()
            return float(worker.stdout.readline())

        def run_nw(kernel, p):
            command = [args.nw, "predict", "--train", f"{folder}/K-{p}.npy",
                       "--values", f"{folder}/V-{p}.npy", "--query", f"{folder}/Q-{p}.npy",
                       "--kernel", kernel, "--bandwidth", repr(h), "--precision", p,
                       "--threads", str(args.threads),
                       "--output", f"{folder}/out-{kernel}-{p}.npy"]
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if result.returncode != 0:
                worker.kill()
                sys.exit(f"embedding_gemm: {' '.join(command)} exited {result.returncode}:\n"
                         + result.stderr.strip())
            return seconds

        gemm_times = {p: [] for p in precisions}
        nw_times = {(k, p): [] for k in kernels for p in precisions}
        for _ in range(args.repeats):
            for p in precisions:
                gemm_times[p].append(gemm(p))
                for k in kernels:
                    nw_times[k, p].append(run_nw(k, p))
        worker.stdin.close()
        worker.wait()

        errors = {}
        checked = min(CHECKED_QUERIES, m)
        for k, p in nw_times:
            got = np.load(f"{folder}/out-{k}-{p}.npy").reshape(m, -1)[:checked]
            want = reference(queries.astype(DTYPE[p])[:checked], keys.astype(DTYPE[p]),
                             values.astype(DTYPE[p]), k, h)
            errors[k, p] = float(np.max(np.abs(got - want) / np.abs(want)))

    model, avx512f = cpu_description()
    removed = [name for name in BLAS_VARIABLES if name in os.environ]
    print(f"CPU: {model}; avx512f: {'yes' if avx512f else 'no'}; "
          f"{args.threads} thread{'s' if args.threads != 1 else ''} for nw and the BLAS")
    print(f"NumPy {blas_info['numpy']} BLAS ({blas_info['source']}):")
    for line in describe_blas(blas_info, args.threads):
        print(f"  {line}")
    print("  removed from the GEMM's environment: " + (", ".join(removed) or "nothing (unset)"))
    print(f"n={n} m={m} d={d} h={h}; median of {args.repeats}, interleaved; "
          "nw: whole process, .npy in and out; gemm: Q @ K.T alone")
    print()
    print("| kernel | precision | nw s | gemm s | ratio | target 1.5x | max rel. error |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    for k, p in nw_times:
        t_nw, t_gemm = statistics.median(nw_times[k, p]), statistics.median(gemm_times[p])
        ratio = t_nw / t_gemm
        print(f"| {k} | {p} | {t_nw:.3f} | {t_gemm:.3f} | {ratio:.2f} | "
              f"{'met' if ratio <= 1.5 else 'missed'} | {errors[k, p]:.1e} |")
    print()
    print(f"max rel. error: |nw - exact| / |exact| over the first {checked} queries;")
    print("exact: float64 log-sum-exp softmax pooling of the same (rounded) inputs")
    wrong = [f"{k}/{p}" for (k, p), e in errors.items() if not e <= TOLERANCE[p]]
    if wrong:
        sys.exit("embedding_gemm: error above tolerance for " + ", ".join(wrong))


if __name__ == "__main__":
    main()
