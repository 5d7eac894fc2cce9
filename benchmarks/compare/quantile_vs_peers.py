#!/usr/bin/python3
"""Quantile family vs its peers, single thread, interleaved rounds, medians of CPU seconds.

  isotonic: sklearn IsotonicRegression().fit on 1e6 random points  vs  bench_quantile isotonic_1d
  sort:     q.sort(axis=1) in place on a copy of a [rows, 9] float32 array (the copy untimed, as
            in ladle's benchmark)  vs  sort_rows (sort_quantiles), sort_isotonic_rows (the two
            calls sort_quantiles + isotonic_repair) and sort_then_isotonic_rows (the one call
            sort_then_isotonic_repair, same result); np.sort(q, axis=1), which also allocates
            and copies, is printed for reference
  fit:      HiGHS (scipy linprog) on the medium aggregator's LP (M = 10, N = 1e5, K = 9, one LP
            per level, as the problem separates)  vs  fit_first_order on the same data (written
            to a temporary file), with HiGHS's optimum, ladle's objective, the relative gap and
            ladle's certified gap bound. --highs-form primal is the LP as the issue states it
            (weights, residual parts u, v >= 0: N + 1 rows, 2N + M columns); dual is its LP dual
            (max y.d + z s.t. X^T d + z <= 0, -(1 - tau)/(K N) <= d_i <= tau/(K N): M rows,
            N + 1 columns), whose optimum is the same number by strong duality.
  aggregate predict [16, 1e6, 9] float: ladle's fraction of the copy bandwidth (no peer).

    /usr/bin/python3 benchmarks/compare/quantile_vs_peers.py [--rounds 5] [--rows 2000000]
        [--skip-fit | --fit-only] [--highs-form dual|primal] [--highs-method highs-ds|highs-ipm]
        [--highs-time-limit SECONDS]

The issue asks for [1.6e7 x 9] rows (--rows 16000000: about 2.3 GB for numpy's arrays and 1.2 GB
for ladle's); the default 2e6 keeps memory modest on a shared machine. CPU seconds (process_time
/ Google Benchmark cpu_time) keep the ratios meaningful on a loaded machine; `uptime` is printed
with the results.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

try:
    from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
    threadpool_limits(limits=1)
except ImportError:  # pragma: no cover
    threadpool_info = None


def ladle_times(bench, pattern, env=None):
    out = subprocess.run([str(bench), "--benchmark_filter=" + pattern, "--benchmark_format=json"],
                         capture_output=True, text=True, check=True, env=env)
    data = json.loads(out.stdout)
    res = {}
    for b in data["benchmarks"]:
        unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b.get("time_unit", "ns")]
        res[b["name"].split("/")[0]] = (b["cpu_time"] * unit, b)
    return res, out.stderr


def sklearn_isotonic(n):
    from sklearn.isotonic import IsotonicRegression
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, n)
    y = np.sin(x) + 0.3 * x + rng.normal(size=n)
    t = time.process_time()
    IsotonicRegression().fit(x, y)
    return time.process_time() - t


def numpy_sort(q):
    """In place, like ladle's sort_quantiles (whose benchmark restores its input untimed)."""
    a = q.copy()
    t = time.process_time()
    a.sort(axis=1)
    return time.process_time() - t


def numpy_sort_copy(q):
    """np.sort(q, axis=1): the copy into a new array is timed too (reported, not the ratio)."""
    t = time.process_time()
    np.sort(q, axis=1)
    return time.process_time() - t


def fit_problem(rng, M=10, N=100000, K=9):
    z = np.array([-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816])
    x = rng.uniform(-3, 3, N)
    mu, sd = np.sin(x), 0.3 + 0.4 * np.abs(x)
    y = mu + sd * rng.normal(size=N)
    preds = np.empty((M, N, K))
    for m in range(M):
        preds[m] = (mu + 0.1 * (m % 3))[:, None] + (0.6 + 0.1 * m) * sd[:, None] * z[None, :] \
            + 0.05 * (m + 1) * rng.normal(size=(N, K))
    return preds, y, np.linspace(0.1, 0.9, K)


def highs_fit(preds, y, levels, form="dual", method="highs-ds", time_limit=None):
    """Sum over levels of HiGHS's optimum of each level's LP (= J*), and the CPU seconds.

    primal: min sum_i c (tau u_i + (1 - tau) v_i) s.t. x_i.w + u_i - v_i = y_i, sum w = 1,
    w, u, v >= 0, with c = 1 / (K N). dual: max y.d + z s.t. X^T d + z 1 <= 0,
    -c (1 - tau) <= d_i <= c tau, z free (one variable per row of the primal)."""
    import scipy.sparse as sp
    from scipy.optimize import linprog
    M, N, K = preds.shape
    options = {"time_limit": float(time_limit)} if time_limit else {}
    total, t0, per_level = 0.0, time.process_time(), []
    for k in range(K):
        tau, c0 = levels[k], 1.0 / (K * N)
        t1 = time.process_time()
        if form == "primal":
            c = np.concatenate([np.zeros(M), np.full(N, tau * c0), np.full(N, (1 - tau) * c0)])
            eye = sp.identity(N, format="csr")
            A = sp.hstack([sp.csr_matrix(preds[:, :, k].T), eye, -eye], format="csr")
            G = sp.csr_matrix(np.concatenate([np.ones(M), np.zeros(2 * N)])[None, :])
            res = linprog(c, A_eq=sp.vstack([A, G], format="csr"), b_eq=np.concatenate([y, [1.0]]),
                          bounds=(0, None), method=method, options=options)
            fun = res.fun
        else:
            c = -np.concatenate([y, [1.0]])
            A = np.hstack([preds[:, :, k], np.ones((M, 1))])  # X^T | 1: one row per model
            bounds = np.empty((N + 1, 2))
            bounds[:N, 0], bounds[:N, 1] = -c0 * (1 - tau), c0 * tau
            bounds[N] = (-np.inf, np.inf)
            res = linprog(c, A_ub=A, b_ub=np.zeros(M), bounds=bounds, method=method, options=options)
            fun = -res.fun if res.status == 0 else float("nan")
        per_level.append(time.process_time() - t1)
        if res.status != 0:  # time limit or failure: no optimum to compare with
            return time.process_time() - t0, float("nan"), f"level {k}: {res.message}", per_level
        total += fun
    return time.process_time() - t0, total, "optimal", per_level


def median(v):
    return float(np.median(np.asarray(v)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rows", type=int, default=2000000)
    ap.add_argument("--bench")
    ap.add_argument("--skip-fit", action="store_true")
    ap.add_argument("--fit-only", action="store_true")
    ap.add_argument("--highs-form", choices=("dual", "primal"), default="dual")
    ap.add_argument("--highs-method", choices=("highs", "highs-ds", "highs-ipm"), default="highs-ds")
    ap.add_argument("--highs-time-limit", type=float, help="seconds per level's LP (HiGHS option)")
    args = ap.parse_args()
    bench = peer_setup.find_bench(args.bench, "bench_quantile")
    print("machine:", peer_setup.machine_report())
    if threadpool_info:
        print("threadpools:", [(i["internal_api"], i["num_threads"]) for i in threadpool_info()])
    if args.fit_only:
        return fit_comparison(bench, args)
    q = np.random.default_rng(2).normal(size=(args.rows, 9)).astype(np.float32)
    t = {k: [] for k in ("sk_iso", "ladle_iso", "np_sort", "np_sort_copy", "ladle_sort", "ladle_sort_iso",
                         "ladle_fused", "ladle_agg_frac")}
    pattern = (f"isotonic_1d|sort_rows/{args.rows}|sort_isotonic_rows/{args.rows}"
               f"|sort_then_isotonic_rows/{args.rows}|aggregate")
    env = dict(os.environ, LADLE_QUANTILE_ROWS=str(args.rows))
    for r in range(args.rounds):
        t["sk_iso"].append(sklearn_isotonic(1000000))
        res, _ = ladle_times(bench, pattern, env)
        t["ladle_iso"].append(res["isotonic_1d"][0])
        t["ladle_sort"].append(res["sort_rows"][0])
        t["ladle_sort_iso"].append(res["sort_isotonic_rows"][0])
        t["ladle_fused"].append(res["sort_then_isotonic_rows"][0])
        t["ladle_agg_frac"].append(res["aggregate"][1]["bw_frac"])
        t["np_sort"].append(numpy_sort(q))
        t["np_sort_copy"].append(numpy_sort_copy(q))
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in t.items()), flush=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"isotonic 1e6:      sklearn {median(t['sk_iso']):.3f} s, ladle {median(t['ladle_iso']):.3f} s,"
          f" ratio {median(t['sk_iso']) / median(t['ladle_iso']):.2f}x")
    print(f"sort [{args.rows}x9]: numpy in place {median(t['np_sort']):.3f} s"
          f" (np.sort with its copy {median(t['np_sort_copy']):.3f} s), ladle sort {median(t['ladle_sort']):.3f} s"
          f" ({median(t['np_sort']) / median(t['ladle_sort']):.2f}x), sort+isotonic"
          f" {median(t['ladle_sort_iso']):.3f} s ({median(t['np_sort']) / median(t['ladle_sort_iso']):.2f}x),"
          f" sort_then_isotonic_repair {median(t['ladle_fused']):.3f} s"
          f" ({median(t['np_sort']) / median(t['ladle_fused']):.2f}x)")
    print(f"aggregate [16,1e6,9] predict: {median(t['ladle_agg_frac']):.2f} of the copy bandwidth")
    if not args.skip_fit:
        fit_comparison(bench, args)


def fit_comparison(bench, args):
    preds, y, levels = fit_problem(np.random.default_rng(4))
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "fit")
        preds.astype(np.float64).tofile(prefix + ".preds")
        y.astype(np.float64).tofile(prefix + ".y")
        env = dict(os.environ, LADLE_QUANTILE_FIT_DATA=prefix)
        fits, highs = [], []
        for r in range(max(1, args.rounds // 2)):
            res, err = ladle_times(bench, "fit_first_order", env)
            fits.append((res["fit_first_order"][0], res["fit_first_order"][1]["objective"],
                         res["fit_first_order"][1]["gap_bound"], res["fit_first_order"][1]["iterations"]))
            highs.append(highs_fit(preds, y, levels, args.highs_form, args.highs_method,
                                   args.highs_time_limit))
            print(f"fit round {r}: ladle {fits[-1][0]:.3f} s obj {fits[-1][1]:.12g}"
                  f" (bound {fits[-1][2]:.3g}, {fits[-1][3]:.0f} iterations), highs {args.highs_form}"
                  f" {args.highs_method} {highs[-1][0]:.2f} s obj {highs[-1][1]:.12g} ({highs[-1][2]};"
                  f" per level {', '.join(f'{v:.2f}' for v in highs[-1][3])} s)", flush=True)
    lt, ht = median([f[0] for f in fits]), median([h[0] for h in highs])
    gap = (fits[0][1] - highs[0][1]) / highs[0][1]
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"fit M=10 N=1e5 K=9: HiGHS ({args.highs_form}, {args.highs_method}) {ht:.2f} s, optimum"
          f" {highs[0][1]:.12g}; ladle first-order {lt:.3f} s, objective {fits[0][1]:.12g}; ratio"
          f" {ht / lt:.1f}x; relative objective gap {gap:.2e} (ladle's certified bound"
          f" {fits[0][2] / fits[0][1]:.2e})")

if __name__ == "__main__":
    main()
