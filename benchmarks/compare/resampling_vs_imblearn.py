#!/usr/bin/python3
"""Side-by-side timing: imbalanced-learn 0.10 vs ladle on the same data, single thread.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        /usr/bin/python3 benchmarks/compare/resampling_vs_imblearn.py [path/to/bench_resampling]

Data (identical on both sides): x[i][j] = splitmix64(i*d + j) mapped to [0, 1) as float32, plus
0.05 on every feature of the minority rows (i % 10 == 0, 10% minority); k = 5, seed/random_state
0. imblearn runs with its BLAS and OpenMP limited to one thread; ladle runs with ladle::seq
(`bench_resampling --once METHOD N D`, which also reports its own wall time). imblearn's
NumPy / scikit-learn use the optimised BLAS users have (the report prints library and kernel;
peer_setup.py). Each run is one child process per side, interleaved round by round; both sides
are timed as process CPU seconds of the resampling call only (data generation excluded), so a
busy machine penalises neither, and summarised by the median of `REPEATS` rounds (default 3).
Peak memory is each side's max RSS in its own process (/usr/bin/time for ladle;
resource.getrusage for imblearn).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

peer_setup.pin_one_thread()

import re
import resource
import subprocess
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "build", "benchmarks", "bench_resampling")
REPEATS = int(os.environ.get("REPEATS", "3"))
CASES = [("smote", 100_000, 64), ("smote", 400_000, 256), ("borderline", 100_000, 64),
         ("adasyn", 100_000, 64)]
if os.environ.get("QUICK"):
    CASES = [c for c in CASES if c[1] == 100_000]
if os.environ.get("ONLY"):  # e.g. ONLY=smote,borderline
    CASES = [c for c in CASES if c[0] in os.environ["ONLY"].split(",")]


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
    """Runs in a child process: one timed call; prints CPU seconds, max RSS (KiB), wall seconds
    and the BLAS in use."""
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
    X, y = make_data(n, d)
    make = {"smote": lambda: SMOTE(k_neighbors=5, random_state=0),
            "borderline": lambda: BorderlineSMOTE(k_neighbors=5, random_state=0),
            "adasyn": lambda: ADASYN(n_neighbors=5, random_state=0)}[method]
    sampler = make()
    t0, w0 = time.process_time(), time.perf_counter()
    sampler.fit_resample(X, y)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT {cpu:.4f} {rss} {wall:.4f}")
    print("BLAS", peer_setup.blas_report().replace("\n", " | "))


class Side:
    def __init__(self):
        self.wall, self.rss = [], 0


def imblearn_runner(method, n, d, side):
    def run():
        out = subprocess.run([sys.executable, __file__, "--child", method, str(n), str(d)],
                             check=True, capture_output=True, text=True).stdout
        sec, rss, wall = re.search(r"RESULT (\S+) (\S+) (\S+)", out).groups()
        side.wall.append(float(wall))
        side.rss = max(side.rss, int(rss))
        side.blas = re.search(r"BLAS (.*)", out).group(1)
        return float(sec)
    return run


def ladle_runner(method, n, d, side):
    def run():
        p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", BENCH, "--once", method,
                            str(n), str(d)], check=True, capture_output=True, text=True)
        side.wall.append(float(re.search(r" seconds=(\S+)", p.stdout).group(1)))
        side.rss = max(side.rss, int(re.search(r"MAXRSS (\d+)", p.stderr).group(1)))
        return float(re.search(r"cpu_seconds=(\S+)", p.stdout).group(1))
    return run


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        imblearn_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    if not os.path.exists(BENCH):
        sys.exit(f"bench_resampling not found at {BENCH}; pass its path")
    import imblearn
    import numpy
    import sklearn
    print("machine:", peer_setup.machine_report())
    print(f"imbalanced-learn {imblearn.__version__}, scikit-learn {sklearn.__version__}, "
          f"numpy {numpy.__version__}")
    print(peer_setup.blas_report())
    print(f"sgemm check: max relative error {peer_setup.sgemm_check():.2e}")
    print(f"CPU seconds, median of {REPEATS} interleaved rounds (min-max); median wall in parentheses")
    print(f"{'method':<12}{'shape':>13} {'imblearn s':>30}{'ladle s':>30}{'speed-up':>10}"
          f"{'imblearn MiB':>14}{'ladle MiB':>11}")
    for method, n, d in CASES:
        si, sl = Side(), Side()
        t = peer_setup.interleave({"imblearn": imblearn_runner(method, n, d, si),
                                   "ladle": ladle_runner(method, n, d, sl)}, REPEATS)
        ti, tl = peer_setup.median(t["imblearn"]), peer_setup.median(t["ladle"])
        wi, wl = peer_setup.median(si.wall), peer_setup.median(sl.wall)
        print(f"{method:<12}{f'{n}x{d}':>13} "
              f"{peer_setup.spread(t['imblearn']) + f' ({wi:.2f})':>30}"
              f"{peer_setup.spread(t['ladle']) + f' ({wl:.2f})':>30}{ti / tl:>9.2f}x"
              f"{si.rss / 1024:>14.0f}{sl.rss / 1024:>11.0f}", flush=True)
    print("BLAS in the imblearn child:", si.blas)
    print("after:", peer_setup.load_average())


if __name__ == "__main__":
    main()
