#!/usr/bin/python3
"""Side-by-side timing: imbalanced-learn 0.10 vs ladle on the same data, single thread.

    /usr/bin/python3 benchmarks/compare/resampling_vs_imblearn.py [path/to/bench_resampling]

Data (identical on both sides): x[i][j] = splitmix64(i*d + j) mapped to [0, 1) as float32, plus
0.05 on every feature of the minority rows (i % 10 == 0, 10% minority); k = 5, seed/random_state
0. imblearn runs with its BLAS and OpenMP limited to one thread; ladle runs with ladle::seq
(`bench_resampling --once METHOD N D`, which also reports its own wall time). Both sides are
timed as process CPU seconds of the resampling call only (data generation excluded), best of
`REPEATS`, so a busy machine penalises neither. Peak memory is each side's max RSS in its own
process (/usr/bin/time for ladle; resource.getrusage for imblearn, measured in a child process).
"""
import os
import sys

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import re
import resource
import subprocess
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "build", "benchmarks", "bench_resampling")
REPEATS = int(os.environ.get("REPEATS", "2"))
CASES = [("smote", 100_000, 64), ("smote", 400_000, 256), ("borderline", 100_000, 64),
         ("adasyn", 100_000, 64)]
if os.environ.get("QUICK"):
    CASES = [c for c in CASES if c[1] == 100_000]


def splitmix64(z):
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def make_data(n, d):
    with np.errstate(over="ignore"):
        idx = np.arange(n * d, dtype=np.uint64)
        u = splitmix64(idx)
    X = ((u >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)).reshape(n, d)
    y = (np.arange(n) % 10 == 0).astype(np.int64)
    X[y == 1] += np.float32(0.05)
    return X, y


def imblearn_child(method, n, d):
    """Runs in a child process: prints best CPU seconds and max RSS (KiB)."""
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
    X, y = make_data(n, d)
    make = {"smote": lambda: SMOTE(k_neighbors=5, random_state=0),
            "borderline": lambda: BorderlineSMOTE(k_neighbors=5, random_state=0),
            "adasyn": lambda: ADASYN(n_neighbors=5, random_state=0)}[method]
    best, best_wall = float("inf"), float("inf")
    for _ in range(REPEATS):
        t0, w0 = time.process_time(), time.perf_counter()
        make().fit_resample(X, y)
        best = min(best, time.process_time() - t0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT {best:.4f} {rss} {best_wall:.4f}")


def run_imblearn(method, n, d):
    out = subprocess.run([sys.executable, __file__, "--child", method, str(n), str(d)],
                         check=True, capture_output=True, text=True).stdout
    sec, rss, wall = re.search(r"RESULT (\S+) (\S+) (\S+)", out).groups()
    return float(sec), int(rss), float(wall)


def run_ladle(method, n, d):
    best, best_wall, rss = float("inf"), float("inf"), 0
    for _ in range(REPEATS):
        p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", BENCH, "--once", method,
                            str(n), str(d)], check=True, capture_output=True, text=True)
        best = min(best, float(re.search(r"cpu_seconds=(\S+)", p.stdout).group(1)))
        best_wall = min(best_wall, float(re.search(r" seconds=(\S+)", p.stdout).group(1)))
        rss = max(rss, int(re.search(r"MAXRSS (\d+)", p.stderr).group(1)))
    return best, rss, best_wall


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        imblearn_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    if not os.path.exists(BENCH):
        sys.exit(f"bench_resampling not found at {BENCH}; pass its path")
    print("CPU seconds (wall seconds in parentheses), best of", REPEATS)
    print(f"{'method':<12}{'shape':>14}{'imblearn s':>20}{'ladle s':>18}{'speed-up':>10}"
          f"{'imblearn MiB':>14}{'ladle MiB':>11}")
    for method, n, d in CASES:
        ti, ri, wi = run_imblearn(method, n, d)
        tl, rl, wl = run_ladle(method, n, d)
        print(f"{method:<12}{f'{n}x{d}':>14}{f'{ti:.3f} ({wi:.3f})':>20}"
              f"{f'{tl:.3f} ({wl:.3f})':>18}{ti / tl:>9.1f}x"
              f"{ri / 1024:>14.0f}{rl / 1024:>11.0f}", flush=True)


if __name__ == "__main__":
    main()
