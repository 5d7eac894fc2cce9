#!/usr/bin/python3
"""ladle vs numpy / torch for the bandwidth-bound weighting paths, interleaved, medians.

  class counts + balanced weights over 1e8 int32 labels (10 classes, geometric imbalance):
      numpy: np.bincount(y) then n / (C * counts)   vs  BM_class_counts_balanced_int32_1e8_{seq,par}
  loss-based weights over 1e6 float32 losses (LinUpper, delta 1, r 1):
      torch: min/max, map to [-delta, delta], clamp, torch.softmax(f / r)
                                                     vs  BM_loss_based_weights_1e6_{seq,par}
  KL-DRO weights over 1e6 float32 losses: torch.softmax(l / r)  vs  BM_kl_dro_weights_1e6_par

Rounds alternate peer and ladle (ladle via bench_weighting --benchmark_format=json, one
repetition per round) so background load hits both alike; the table shows medians over the
rounds of wall and CPU time and the peer/ladle ratios. numpy's BLAS does not matter here (bincount is not BLAS) but
is recorded with threadpoolctl; torch runs with its default thread count (printed).

Usage: /usr/bin/python3 benchmarks/compare/weighting_vs_numpy.py [path/to/bench_weighting] [rounds]
(default build-bench/benchmarks/bench_weighting, 5 rounds).
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

try:
    from threadpoolctl import threadpool_info
except ImportError:  # pragma: no cover
    threadpool_info = lambda: []  # noqa: E731


def timed(fn, reps=3):
    """(best wall seconds, best process CPU seconds); on a loaded host CPU time is the fairer one."""
    fn()
    wall = cpu = float("inf")
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


rng = np.random.default_rng(1)
bits = rng.integers(1, 2 ** 31, size=100_000_000, dtype=np.int64) | (1 << 9)  # 10 classes
labels = np.minimum(9, np.log2(bits & -bits).astype(np.int32))
del bits
losses = torch.from_numpy(rng.exponential(2.0, size=1_000_000).astype(np.float32))


def numpy_balanced():
    counts = np.bincount(labels)
    present = counts > 0
    w = np.zeros(len(counts))
    w[present] = labels.size / (present.sum() * counts[present])
    return w


def torch_lin_upper(delta=1.0, r=1.0):
    lo, hi = losses.min(), losses.max()
    h = delta * (2 * losses - hi - lo) / torch.clamp(hi - lo, min=1e-6)
    return torch.softmax(torch.clamp(h + delta, max=delta) / r, dim=0)


def torch_kl_dro(r=1.0):
    return torch.softmax(losses / r, dim=0)


PEERS = {
    "class_counts_balanced_int32_1e8": numpy_balanced,
    "loss_based_weights_1e6": torch_lin_upper,
    "kl_dro_weights_1e6": torch_kl_dro,
}


def ladle_round(binary):
    out = subprocess.run([binary, "--benchmark_format=json",
                          "--benchmark_filter=class_counts|loss_based|kl_dro"],
                         check=True, capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        name = b["name"].split("/")[0].replace("BM_", "")
        times[name] = (b["real_time"] / 1e3, b["cpu_time"] / 1e3)  # ms -> s
    return times


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build-bench/benchmarks/bench_weighting"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    peer, ours = {k: [] for k in PEERS}, {}
    for _ in range(rounds):
        for k, fn in PEERS.items():
            peer[k].append(timed(fn))
        for k, v in ladle_round(binary).items():
            ours.setdefault(k, []).append(v)
    print("load:", os.getloadavg(), " torch threads:", torch.get_num_threads())
    print("numpy", np.__version__, [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()])
    print("%-38s %9s %9s %6s | %9s %9s %6s" % ("case", "peer wall", "ladle", "ratio",
                                                "peer CPU", "ladle", "ratio"))
    for k in PEERS:
        pw = statistics.median(t[0] for t in peer[k]) * 1e3
        pc = statistics.median(t[1] for t in peer[k]) * 1e3
        for variant in sorted(v for v in ours if v.startswith(k)):
            ow = statistics.median(t[0] for t in ours[variant]) * 1e3
            oc = statistics.median(t[1] for t in ours[variant]) * 1e3
            print("%-38s %9.2f %9.2f %6.2f | %9.2f %9.2f %6.2f" % (variant, pw, ow, pw / ow, pc, oc, pc / oc))
    print("(ms, medians over rounds; CPU = process CPU time, all threads, on both sides; torch runs "
          "with its default thread count)")


if __name__ == "__main__":
    main()
