#!/usr/bin/env python3
"""Uniform average of 8 x 25M float32 arrays and an EMA update of 25M: ladle vs numpy; and the
bfloat16 average (bf16 in, fp32 accumulation, bf16 out) against torch's fp32-accumulating path
(acc = x0.float(); acc.add_(x_k) ...; acc.mul_(1/8).bfloat16(), one thread) when torch imports.

Interleaves runs of build*/benchmarks/bench_averaging (one repetition each) with numpy's
in-place forms (out = a0.copy(); out += a_k ...; out *= 1/8 and ema += (1-d)(x - ema) with
in-place ops), `rounds` times, and prints medians of wall and CPU time and the ratios, and
ladle's fraction of the copy bandwidth measured between its timed iterations (bw_frac).
On a shared machine the CPU time is the fairer number; both are printed with the load.

  python3 benchmarks/compare/averaging_vs_numpy.py build-bench/benchmarks/bench_averaging [rounds]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

N, K = 25_000_000, 8


def ladle_run(binary, name):
    out = subprocess.run([binary, "--benchmark_filter=" + name, "--benchmark_format=json",
                          "--benchmark_min_warmup_time=0.3"], check=True, capture_output=True,
                         text=True).stdout
    b = json.loads(out)["benchmarks"][0]
    scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
    return b["real_time"] * scale, b["cpu_time"] * scale, b.get("bw_frac"), b.get("ref_GB/s")


def timed(f):
    w, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - w, time.process_time() - c, None, None


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    try:
        from threadpoolctl import threadpool_info
        print("numpy", np.__version__, "thread pools:", [(p["internal_api"], p["num_threads"]) for p in threadpool_info()])
    except ImportError:
        print("numpy", np.__version__, "(threadpoolctl not installed; elementwise ops are single-threaded)")
    rng = np.random.default_rng(0)
    xs = [rng.random(N, dtype=np.float32) for _ in range(K)]
    out = np.empty(N, np.float32)
    ema = xs[0].copy()

    def np_average():
        np.copyto(out, xs[0])
        for a in xs[1:]:
            np.add(out, a, out=out)
        np.multiply(out, np.float32(1.0 / K), out=out)

    tmp = np.empty(N, np.float32)

    def np_ema():
        np.subtract(xs[1], ema, out=tmp)
        np.multiply(tmp, np.float32(1 - 0.999), out=tmp)
        np.add(ema, tmp, out=ema)

    try:
        import torch
        torch.set_num_threads(1)
        bf = [torch.from_numpy(x).bfloat16() for x in xs]

        def torch_bf16_average():
            acc = bf[0].float()
            for x in bf[1:]:
                acc.add_(x)
            return acc.mul_(1.0 / K).bfloat16()
        print("torch", torch.__version__, "threads", torch.get_num_threads())
    except ImportError:
        torch_bf16_average = None
        print("torch not installed: the bf16 comparison is skipped")

    tasks = ["avg", "ema"] + (["bf16"] if torch_bf16_average else [])
    res = {side + "_" + t: [] for t in tasks for side in ("ladle", "np")}
    np_average(), np_ema()  # warm
    for _ in range(rounds):
        res["ladle_avg"].append(ladle_run(binary, "BM_uniform_average_8x25M_f32"))
        res["np_avg"].append(timed(np_average))
        res["ladle_ema"].append(ladle_run(binary, "BM_ema_update_25M_f32"))
        res["np_ema"].append(timed(np_ema))
        if torch_bf16_average:
            res["ladle_bf16"].append(ladle_run(binary, "BM_uniform_average_8x25M_bf16"))
            res["np_bf16"].append(timed(torch_bf16_average))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in res.items()}
    print("load average:", os.getloadavg())
    moved_bytes = {"avg": (K + 1) * N * 4, "ema": 3 * N * 4, "bf16": (K + 1) * N * 2}
    for task in tasks:
        moved = moved_bytes[task]
        peer = "torch" if task == "bf16" else "numpy"
        lw, lc = med["ladle_" + task]
        nw, nc = med["np_" + task]
        print("%s: ladle wall %.1f ms cpu %.1f ms (%.2f GB/s by cpu) | %s wall %.1f ms cpu %.1f ms "
              "(%.2f GB/s by cpu) | %s/ladle: wall %.2fx cpu %.2fx"
              % (task, lw * 1e3, lc * 1e3, moved / lc / 1e9, peer, nw * 1e3, nc * 1e3,
                 moved / nc / 1e9, peer, nw / lw, nc / lc))
        fr = [r[2] for r in res["ladle_" + task] if r[2] is not None]
        refs = [r[3] for r in res["ladle_" + task] if r[3] is not None]
        if fr:
            print("   ladle's fraction of the copy reference measured between its own iterations "
                  "(bw_frac), per round: %s; median %.2f (reference %.1f-%.1f GB/s)"
                  % (" ".join("%.2f" % f for f in fr), statistics.median(fr), min(refs), max(refs)))


if __name__ == "__main__":
    main()
