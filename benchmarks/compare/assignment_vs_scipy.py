#!/usr/bin/env python3
"""Dense linear sum assignment, n x n, n = 512 and 2048: ladle vs scipy.

Both solve the same matrix: entry k is the uniform double of derive_stream(7, k)
(ladle/core/random.hpp's splitmix64 mixer, (z >> 11) * 2^-53), minimised. Interleaves runs of
build*/benchmarks/bench_averaging (--benchmark_filter=BM_linear_sum_assignment/<n>, one
repetition) with scipy.optimize.linear_sum_assignment, `rounds` times, and prints medians of
wall and CPU time, their ratio and both totals (they must agree). Both are single-threaded.

  python3 benchmarks/compare/assignment_vs_scipy.py build-bench/benchmarks/bench_averaging [rounds]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment


def matrix(n):
    k = np.arange(n * n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(7) * np.uint64(0x9E3779B97F4A7C15) + k + np.uint64(0x632BE59BD9B4E019)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(n, n)


def ladle_run(binary, n):
    out = subprocess.run([binary, f"--benchmark_filter=BM_linear_sum_assignment/{n}/",
                          "--benchmark_format=json"], check=True, capture_output=True,
                         text=True).stdout
    b = json.loads(out)["benchmarks"][0]
    scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
    return b["real_time"] * scale, b["cpu_time"] * scale, b["total"]


def scipy_run(c):
    w, p = time.perf_counter(), time.process_time()
    r, col = linear_sum_assignment(c)
    w, p = time.perf_counter() - w, time.process_time() - p
    return w, p, float(c[r, col].sum())


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print("scipy", scipy.__version__, "numpy", np.__version__, "load", os.getloadavg())
    for n in (512, 2048):
        c = matrix(n)
        lw, lc, sw, sc = [], [], [], []
        for _ in range(rounds):
            w, p, lt = ladle_run(binary, n)
            lw.append(w)
            lc.append(p)
            w, p, st = scipy_run(c)
            sw.append(w)
            sc.append(p)
        med = statistics.median
        print(f"n={n}: ladle wall {med(lw) * 1e3:.1f} ms cpu {med(lc) * 1e3:.1f} ms | "
              f"scipy wall {med(sw) * 1e3:.1f} ms cpu {med(sc) * 1e3:.1f} ms | "
              f"ladle/scipy wall {med(lw) / med(sw):.2f} cpu {med(lc) / med(sc):.2f} | "
              f"totals {lt!r} {st!r}")
    print("load", os.getloadavg())


if __name__ == "__main__":
    main()
