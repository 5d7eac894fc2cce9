#!/usr/bin/python3
"""Exact kNN, all points as queries: scikit-learn brute force vs ladle, single thread.

Times NearestNeighbors(algorithm='brute').kneighbors() (self query: X=None) on random float32
data of shape (n, d), then runs ladle's bench_neighbors on the same shape (it generates its own
random float32 data of that shape) and prints both times and the ratio.

    /usr/bin/python3 benchmarks/compare/knn_vs_sklearn.py                 # 20k x 64, k = 6 (about 30 s)
    /usr/bin/python3 benchmarks/compare/knn_vs_sklearn.py --full          # 100k x 64 (minutes: sklearn is slow here)
    /usr/bin/python3 benchmarks/compare/knn_vs_sklearn.py --n 20000 --d 256 --bench build/benchmarks/bench_neighbors

Both sides are pinned to one thread (OpenMP/BLAS env vars and threadpoolctl for scikit-learn,
ladle::seq for ladle). Times are CPU seconds of the process (sklearn) / of the benchmark thread
(ladle), which keeps the ratio meaningful on a shared machine; wall seconds are shown as well.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402  (after the thread pins)


def find_bench(explicit):
    if explicit:
        return pathlib.Path(explicit)
    root = pathlib.Path(__file__).resolve().parents[2]
    for build in sorted(root.glob("build*")):
        candidate = build / "benchmarks" / "bench_neighbors"
        if candidate.exists():
            return candidate
    sys.exit("bench_neighbors not found; build it (ninja bench_neighbors) or pass --bench PATH")


def time_sklearn(n, d, k):
    from sklearn.neighbors import NearestNeighbors
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=1)
    except ImportError:
        limit = None
    x = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=1).fit(x)
    w0, c0 = time.perf_counter(), time.process_time()
    nn.kneighbors(None, n_neighbors=k)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    if limit is not None:
        limit.restore_original_limits()
    return wall, cpu


def time_ladle(bench, n, d, k):
    env = dict(os.environ, LADLE_KNN_BENCH=f"{n},{d},{k}")
    name = f"knn_self/{n}/{d}/{k}/0/0"
    out = subprocess.run(
        [str(bench), f"--benchmark_filter=^{name}", "--benchmark_format=json"],
        env=env, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b["name"].startswith(name)]
    if not runs:
        sys.exit(f"benchmark {name} did not run")
    b = runs[0]
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[b["time_unit"]]
    return b["real_time"] * scale, b["cpu_time"] * scale, b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--full", action="store_true", help="the issue's size: 100k x 64, k = 6")
    ap.add_argument("--bench", help="path to bench_neighbors")
    args = ap.parse_args()
    if args.full:
        args.n, args.d, args.k = 100000, 64, 6
    bench = find_bench(args.bench)
    print(f"kNN self query, n={args.n} d={args.d} k={args.k}, float32, single thread")
    sk_wall, sk_cpu = time_sklearn(args.n, args.d, args.k)
    print(f"  scikit-learn brute : {sk_cpu:8.2f} s cpu  ({sk_wall:.2f} s wall)")
    ld_wall, ld_cpu, b = time_ladle(bench, args.n, args.d, args.k)
    print(f"  ladle knn_self     : {ld_cpu:8.2f} s cpu  ({ld_wall:.2f} s wall)  "
          f"{b.get('GFLOPs', 0):.1f} GFLOP/s, {100 * b.get('peak_frac', 0):.0f}% of FMA peak")
    print(f"  speed-up (cpu)     : {sk_cpu / ld_cpu:8.2f}x   (wall {sk_wall / ld_wall:.2f}x)")


if __name__ == "__main__":
    main()
