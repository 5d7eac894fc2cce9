#!/usr/bin/python3
"""Selection vs numpy, single thread, interleaved runs, medians of CPU seconds.

Cases (the issue-15 targets):
  weighted  10^6 of 10^7 without replacement: numpy Generator.choice(p=...) and exponential
            keys + argpartition, vs ladle::weighted_sample
  uniform   10^6 of 10^7 without replacement: numpy Generator.choice(replace=False) vs
            ladle::uniform_subset
  kcenter   50k x 128 float32 -> 1000 centres: a vectorised numpy greedy (one GEMV-shaped pass
            per centre: |x|^2 - 2 X c + |c|^2, minimum, argmax) vs ladle::k_center_greedy
  facility  20k x 64 float32, budget 1000, lazy greedy, kernel max(D^2) - D^2: a numpy dense
            n x n kernel (one GEMM, in place) + heapq lazy greedy, vs ladle::facility_location;
            each side runs in its own process (rep order alternates) and reports its peak RSS
  kmeans    20k x 64 float32, k = 64, k-means++ then 30 Lloyd iterations (tol = 0, one init):
            scikit-learn KMeans(algorithm='lloyd') vs ladle::kmeans; both print iterations

    /usr/bin/python3 benchmarks/compare/selection_vs_numpy.py [--reps 5] [--bench PATH] [--quick]

Each rep runs numpy then ladle (a fresh process: bench_selection --once ...). BLAS is pinned to
one thread (env vars + threadpoolctl); the machine load (uptime) is printed with the results.
"""
import argparse
import heapq
import resource
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402


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


def make_features(n, d):
    """bench_selection's features: splitmix64(i) mapped to [-1, 1), as float32."""
    i = np.arange(n * d, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = i + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) * 2.0**-52 - 1.0).astype(np.float32).reshape(n, d)


def numpy_facility(n, d, k):
    """Dense-kernel lazy greedy (apricot's approach, vectorised): K = max(D) - D, n x n float32."""
    x = make_features(n, d)
    c0 = time.process_time()
    sq = np.einsum("ij,ij->i", x, x)
    K = x @ x.T  # then in place: D = sq_i + sq_j - 2 x.x, clipped at 0, K = max(D) - D
    K *= -2.0
    K += sq[:, None]
    K += sq[None, :]
    np.maximum(K, 0, out=K)
    np.subtract(K.max(), K, out=K)
    cur = np.zeros(n, dtype=np.float32)
    heap = [(-float(g), j, 0) for j, g in enumerate(K.sum(axis=0, dtype=np.float64))]
    heapq.heapify(heap)
    order, gains = [], []
    for t in range(k):
        while True:
            g, j, stamp = heapq.heappop(heap)
            if stamp == t:
                break
            fresh = float(np.maximum(K[j] - cur, 0).sum(dtype=np.float64))  # K symmetric
            heapq.heappush(heap, (-fresh, j, t))
        order.append(j)
        gains.append(-g)
        np.maximum(cur, K[j], out=cur)
    cpu_s = time.process_time() - c0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{cpu_s:.6f} {peak_mib:.1f} {float(cur.sum(dtype=np.float64)):.9g}")


def facility_case(bench, args, reps):
    n, d, k = (5000, 64, 250) if args.quick else (20000, 64, 1000)
    times = {"numpy dense lazy": [], "ladle": []}
    peaks = {"numpy dense lazy": 0.0, "ladle": 0.0}
    objective = {}
    for rep in range(reps):
        for side in (("numpy dense lazy", "ladle") if rep % 2 == 0 else ("ladle", "numpy dense lazy")):
            if side == "ladle":
                p = subprocess.run([str(bench), "--once", "facility", str(n), str(d), str(k)],
                                   check=True, capture_output=True, text=True)
                times[side].append(float(p.stdout.split()[0]))
                for line in p.stderr.splitlines():
                    if line.startswith("peak"):
                        peaks[side] = max(peaks[side], float(line.split()[1]) / 1024)
                    if line.startswith("objective"):
                        objective[side] = float(line.split()[1])
            else:
                p = subprocess.run([sys.executable, __file__, "--numpy-facility", str(n), str(d), str(k)],
                                   check=True, capture_output=True, text=True)
                cpu_s, peak, obj = p.stdout.split()
                times[side].append(float(cpu_s))
                peaks[side] = max(peaks[side], float(peak))
                objective[side] = float(obj)
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"\nfacility ({n} {d} {k}, lazy greedy), median CPU s over {reps} interleaved reps")
    for name, m in med.items():
        ratio = "" if name == "ladle" else f"   time {name} / ladle = {m / med['ladle']:.2f}"
        print(f"  {name:34s} {m:8.4f}   peak RSS {peaks[name]:8.1f} MiB   objective {objective.get(name, float('nan')):.6g}{ratio}")


def kmeans_case(bench, args, reps):
    from sklearn.cluster import KMeans
    n, d, k, it = (5000, 64, 32, 30) if args.quick else (20000, 64, 64, 30)
    x = np.random.default_rng(1).uniform(-1, 1, size=(n, d)).astype(np.float32)
    times = {"sklearn KMeans lloyd": [], "ladle": []}
    iters = {}
    for rep in range(reps):
        km = KMeans(n_clusters=k, n_init=1, max_iter=it, tol=0, algorithm="lloyd", random_state=rep)
        times["sklearn KMeans lloyd"].append(cpu(lambda: km.fit(x)))
        iters["sklearn KMeans lloyd"] = km.n_iter_
        p = subprocess.run([str(bench), "--once", "kmeans", str(n), str(d), str(k), str(it)],
                           check=True, capture_output=True, text=True)
        times["ladle"].append(float(p.stdout.split()[0]))
        iters["ladle"] = int(p.stdout.split()[2])
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"\nkmeans ({n} {d} k={k}, up to {it} Lloyd iterations), median CPU s over {reps} interleaved reps")
    for name, m in med.items():
        ratio = "" if name == "ladle" else f"   time {name} / ladle = {m / med['ladle']:.2f}"
        print(f"  {name:34s} {m:8.4f}   iterations {iters[name]}{ratio}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--numpy-facility":
        numpy_facility(*(int(a) for a in sys.argv[2:]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="run one case: weighted, uniform, kcenter, facility or kmeans")
    args = ap.parse_args()
    bench = peer_setup.find_bench(args.bench, "bench_selection")
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(limits=1)
        print("BLAS:", [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()])
    except ImportError:
        print("threadpoolctl not installed; BLAS pinned through environment variables only")
    print("load before:", os.getloadavg())
    for case, (ladle_args, peers) in numpy_cases(args.quick).items():
        if args.only and case != args.only:
            continue
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
    if not args.only or args.only == "facility":
        facility_case(bench, args, args.reps)
    if not args.only or args.only == "kmeans":
        kmeans_case(bench, args, args.reps)
    print("\nload after:", os.getloadavg())


if __name__ == "__main__":
    main()
