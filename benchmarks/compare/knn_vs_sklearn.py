#!/usr/bin/python3
"""Exact kNN, all points as queries: scikit-learn brute force vs ladle, single thread.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/compare/knn_vs_sklearn.py \
        [--n 20000 --d 64 --k 6] [--full] [--rounds 3] [--bench build-bench/benchmarks/bench_neighbors]

Times NearestNeighbors(algorithm='brute').kneighbors() (self query: X=None) on random float32
data of shape (n, d) against ladle's `bench_neighbors --once self n d k` (its own random float32
data of the same shape and distribution). --full is the 100k x 64, k = 6 shape (minutes).

Both sides run on one thread (OpenMP/BLAS env vars and threadpoolctl for scikit-learn, ladle::seq
for ladle), scikit-learn with the optimised BLAS users have (peer_setup.blas_report prints it and
the kernel). Runs are interleaved and summarised by medians of CPU seconds of the call alone (wall
seconds alongside); the FMA peak is measured in the ladle process.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

peer_setup.pin_one_thread()

import numpy as np  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402
import sklearn  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--full", action="store_true", help="the issue's size: 100k x 64, k = 6")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bench", help="path to bench_neighbors")
    args = ap.parse_args()
    if args.full:
        args.n, args.d, args.k = 100000, 64, 6
    bench = peer_setup.find_bench(args.bench, "bench_neighbors")
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1)
    x = np.random.default_rng(0).standard_normal((args.n, args.d)).astype(np.float32)
    nn = NearestNeighbors(n_neighbors=args.k, algorithm="brute", n_jobs=1).fit(x)
    print("machine:", peer_setup.machine_report())
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    print(peer_setup.blas_report())
    print(f"sgemm check: max relative error {peer_setup.sgemm_check():.2e}")
    walls = {"sklearn": [], "ladle": []}
    extra = {"peak": [], "gflops": []}

    def run_sklearn():
        w0, c0 = time.perf_counter(), time.process_time()
        nn.kneighbors(None, n_neighbors=args.k)
        walls["sklearn"].append(time.perf_counter() - w0)
        return time.process_time() - c0

    def run_ladle():
        out = subprocess.run([str(bench), "--once", "self", str(args.n), str(args.d), str(args.k)],
                             check=True, capture_output=True, text=True).stdout
        field = lambda name: float(re.search(name + r"=(\S+)", out).group(1))  # noqa: E731
        walls["ladle"].append(field("seconds"))
        extra["peak"].append(field("peak_GFLOPs"))
        extra["gflops"].append(field("GFLOPs"))
        return field("cpu_seconds")

    t = peer_setup.interleave({"sklearn": run_sklearn, "ladle": run_ladle}, args.rounds)
    ts, tl = peer_setup.median(t["sklearn"]), peer_setup.median(t["ladle"])
    peak = peer_setup.median(extra["peak"])
    print(f"kNN self query, n={args.n} d={args.d} k={args.k}, float32, single thread; "
          f"CPU seconds, median of {args.rounds} interleaved rounds (min-max)")
    print(f"  scikit-learn brute : {peer_setup.spread(t['sklearn'])} s cpu "
          f"(median wall {peer_setup.median(walls['sklearn']):.2f} s)")
    print(f"  ladle knn_self     : {peer_setup.spread(t['ladle'])} s cpu "
          f"(median wall {peer_setup.median(walls['ladle']):.2f} s), "
          f"{2.0 * args.n * args.n * args.d / tl / 1e9:.1f} GFLOP/s = "
          f"{100 * 2.0 * args.n * args.n * args.d / tl / 1e9 / peak:.0f}% of the {peak:.1f} GFLOP/s FMA peak")
    print(f"  speed-up (median cpu): {ts / tl:.2f}x")
    print("after:", peer_setup.load_average())


if __name__ == "__main__":
    main()
