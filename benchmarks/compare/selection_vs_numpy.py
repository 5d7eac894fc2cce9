#!/usr/bin/python3
"""Selection vs numpy, single thread, interleaved runs, medians of CPU seconds.

Cases (the issue-15 targets):
  weighted  10^6 of 10^7 without replacement: numpy Generator.choice(p=...) and exponential
            keys + argpartition, vs ladle::weighted_sample
  uniform   10^6 of 10^7 without replacement: numpy Generator.choice(replace=False) vs
            ladle::uniform_subset
  kcenter   50k x 128 float32 -> 1000 centres: a vectorised numpy greedy (one GEMV-shaped pass
            per centre: |x|^2 - 2 X c + |c|^2, minimum, argmax) vs ladle::k_center_greedy

    /usr/bin/python3 benchmarks/compare/selection_vs_numpy.py [--reps 5] [--bench PATH] [--quick]

Each rep runs numpy then ladle (a fresh process: bench_selection --once ...). BLAS is pinned to
one thread (env vars + threadpoolctl); the machine load (uptime) is printed with the results.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402


def find_bench(explicit):
    if explicit:
        return pathlib.Path(explicit)
    root = pathlib.Path(__file__).resolve().parents[2]
    for build in sorted(root.glob("build*")):
        candidate = build / "benchmarks" / "bench_selection"
        if candidate.exists():
            return candidate
    sys.exit("bench_selection not found; build it (ninja bench_selection) or pass --bench PATH")


def cpu(fn):
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def numpy_cases(quick):
    n, k = (10**6, 10**5) if quick else (10**7, 10**6)
    kn, kd, kc = (10000, 128, 100) if quick else (50000, 128, 1000)
    rng = np.random.default_rng(0)
    w = rng.random(n)
    p = w / w.sum()
    x = rng.uniform(-1, 1, size=(kn, kd)).astype(np.float32)

    def choice_p():
        rng.choice(n, size=k, replace=False, p=p)

    def exp_keys():
        keys = rng.standard_exponential(n) / w
        np.argpartition(keys, k)[:k]

    def uniform():
        rng.choice(n, size=k, replace=False)

    def kcenter():
        sq = np.einsum("ij,ij->i", x, x)
        mins = np.full(kn, np.inf, dtype=np.float32)
        c = int(rng.integers(kn))
        for _ in range(kc - 1):
            d = sq - 2.0 * (x @ x[c]) + sq[c]
            np.minimum(mins, d, out=mins)
            mins[c] = -1
            c = int(np.argmax(mins))

    return {
        "weighted": (["weighted", str(n), str(k)], {"numpy choice(p=)": choice_p, "numpy exp keys + argpartition": exp_keys}),
        "uniform": (["uniform", str(n), str(k)], {"numpy choice(replace=False)": uniform}),
        "kcenter": (["kcenter", str(kn), str(kd), str(kc)], {"numpy vectorised greedy": kcenter}),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bench")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    bench = find_bench(args.bench)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(limits=1)
        print("BLAS:", [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()])
    except ImportError:
        print("threadpoolctl not installed; BLAS pinned through environment variables only")
    print("load before:", os.getloadavg())
    for case, (ladle_args, peers) in numpy_cases(args.quick).items():
        times = {name: [] for name in peers}
        times["ladle"] = []
        for _ in range(args.reps):
            for name, fn in peers.items():
                times[name].append(cpu(fn))
            out = subprocess.run([str(bench), "--once", *ladle_args], check=True,
                                 capture_output=True, text=True).stdout.split()
            times["ladle"].append(float(out[0]))
        med = {name: statistics.median(v) for name, v in times.items()}
        print(f"\n{case} ({' '.join(ladle_args[1:])}), median CPU s over {args.reps} interleaved reps")
        for name, m in med.items():
            ratio = "" if name == "ladle" else f"   ladle is {m / med['ladle']:.1f}x faster"
            print(f"  {name:34s} {m:8.4f}{ratio}")
    print("\nload after:", os.getloadavg())


if __name__ == "__main__":
    main()
