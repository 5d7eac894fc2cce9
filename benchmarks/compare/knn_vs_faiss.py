#!/usr/bin/python3
"""Exact kNN, one thread: FAISS IndexFlatL2 (the exact-search peer users pick) vs ladle.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/compare/knn_vs_faiss.py \
        [--bench build-bench/benchmarks/bench_neighbors] [--rounds 3] [--only NAME] [--base 1000000]
        [--baseline OTHER/bench_neighbors]

Shapes (float32, standard normal data; each side draws its own with the same distribution):
  self  100k x 64,  k = 6       every row queries the whole set, own row excluded
  self  200k x 16,  k = 5
  query 10k queries x 1M base x 128, k = 10   (--base to shrink the base)
  self  20k x 256,  k = 10
For the self shapes FAISS searches k + 1 and drops the row itself (what a user of IndexFlatL2
does to get "k neighbours other than me"); ladle's knn_self excludes the row by index.

FAISS runs in this process with faiss.omp_set_num_threads(1) and BLAS pinned to one thread
(IndexFlatL2 calls sgemm for batches of 20+ queries); ladle runs `bench_neighbors --once ...` in
a child process with ladle::seq. Times are CPU seconds of the search call alone (data generation
and index.add excluded), so other jobs on a shared machine penalise neither side; wall seconds are
printed too. Runs are interleaved (peer_setup.interleave) and summarised by their median. The
FMA peak printed is measured inside the ladle benchmark process (bench_common.hpp).
--baseline interleaves a second bench_neighbors binary (say, a build from before a change) in
the same rounds and adds its median and ladle's speed-up over it.
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
import faiss  # noqa: E402

SHAPES = {
    "self_100k_64_k6": ("self", 100_000, 100_000, 64, 6),
    "self_200k_16_k5": ("self", 200_000, 200_000, 16, 5),
    "query_10k_1M_128_k10": ("query", 10_000, 1_000_000, 128, 10),
    "self_20k_256_k10": ("self", 20_000, 20_000, 256, 10),
}


class FaissSide:
    def __init__(self, mode, nq, nr, d, k):
        rng = np.random.default_rng(0)
        self.base = rng.standard_normal((nr, d), dtype=np.float32)
        self.queries = self.base if mode == "self" else rng.standard_normal((nq, d), dtype=np.float32)
        self.k = k + 1 if mode == "self" else k
        self.index = faiss.IndexFlatL2(d)
        self.index.add(self.base)
        self.wall = []

    def __call__(self):
        w0, c0 = time.perf_counter(), time.process_time()
        self.index.search(self.queries, self.k)
        self.wall.append(time.perf_counter() - w0)
        return time.process_time() - c0


class LadleSide:
    def __init__(self, bench, mode, nq, nr, d, k):
        self.cmd = [str(bench), "--once", mode] + ([str(nq)] if mode == "self" else [str(nq), str(nr)]) + [str(d), str(k)]
        self.wall, self.peak, self.gflops = [], [], []

    def __call__(self):
        out = subprocess.run(self.cmd, check=True, capture_output=True, text=True).stdout
        field = lambda name: float(re.search(name + r"=(\S+)", out).group(1))  # noqa: E731
        self.wall.append(field("seconds"))
        self.peak.append(field("peak_GFLOPs"))
        self.gflops.append(field("GFLOPs"))
        return field("cpu_seconds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", help="path to bench_neighbors")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", action="append", choices=sorted(SHAPES), help="run only these shapes")
    ap.add_argument("--base", type=int, default=1_000_000, help="base rows of the query shape")
    ap.add_argument("--baseline", help="another bench_neighbors to interleave (before/after)")
    args = ap.parse_args()
    bench = peer_setup.find_bench(args.bench, "bench_neighbors")
    faiss.omp_set_num_threads(1)
    print("machine:", peer_setup.machine_report())
    print(f"faiss {faiss.__version__}, numpy {np.__version__}")
    print(peer_setup.blas_report())
    print(f"sgemm check: max relative error {peer_setup.sgemm_check():.2e}")
    print(f"CPU seconds of the search call, median of {args.rounds} interleaved rounds (min-max); "
          "flops counted as 2*nq*nr*d")
    print(f"{'shape':<24}{'faiss s':>22}{'ladle s':>22}{'speed-up':>10}{'ladle GFLOP/s':>15}"
          f"{'% peak':>8}{'peak GFLOP/s':>14}" + (f"{'baseline s':>24}{'vs baseline':>13}" if args.baseline else ""))
    for name in args.only or list(SHAPES):
        mode, nq, nr, d, k = SHAPES[name]
        if mode == "query":
            nr = args.base
            name = f"query_10k_{nr // 1000}k_128_k10" if nr != 1_000_000 else name
        f = FaissSide(mode, nq, nr, d, k)
        ld = LadleSide(bench, mode, nq, nr, d, k)
        sides = {"faiss": f, "ladle": ld}
        if args.baseline:
            sides["baseline"] = LadleSide(args.baseline, mode, nq, nr, d, k)
        t = peer_setup.interleave(sides, args.rounds)
        del f
        tf, tl = peer_setup.median(t["faiss"]), peer_setup.median(t["ladle"])
        flops = 2.0 * nq * nr * d
        peak = peer_setup.median(ld.peak)
        print(f"{name:<24}{peer_setup.spread(t['faiss']):>22}{peer_setup.spread(t['ladle']):>22}"
              f"{tf / tl:>9.2f}x{flops / tl / 1e9:>15.1f}{100 * flops / tl / 1e9 / peak:>7.0f}%"
              f"{peak:>14.1f}" + (f"{peer_setup.spread(t['baseline']):>24}"
                                  f"{peer_setup.median(t['baseline']) / tl:>12.2f}x" if args.baseline else ""),
              flush=True)
    print("after:", peer_setup.load_average())


if __name__ == "__main__":
    main()
