#!/usr/bin/python3
"""ladle vs PyTorch 1.13 on 4096 x 4096 float32 weights, one thread each.

  torch.quantize_per_channel (int8), Tensor.dequantize, torch.fake_quantize_per_channel_affine
  vs ladle's bench_quantization (BM_quantize_per_channel_int8, BM_dequantize_per_channel_int8,
  BM_fake_quantize_per_channel_int8), parsed from --benchmark_format=json.

Usage: /usr/bin/python3 benchmarks/compare/quantization_vs_torch.py [path/to/bench_quantization]
(default: build/benchmarks/bench_quantization). Prints seconds per call and torch/ladle ratios.
Timings are best-of-N wall clock; on a busy machine compare the ratios, not the absolutes.
"""
import json
import os
import subprocess
import sys
import time

import torch

torch.set_num_threads(1)


def best_time(fn, reps=7):
    """(best wall seconds, best CPU seconds) over reps calls."""
    fn()
    wall = cpu = float("inf")
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def torch_times():
    g = torch.Generator().manual_seed(1)
    w = (torch.rand(4096, 4096, generator=g) * 2 - 1) * 0.05
    amax = w.abs().amax(dim=1)
    scale = (amax / 127.5).float()
    zp = torch.zeros(4096, dtype=torch.int32)
    q = torch.quantize_per_channel(w, scale.double(), zp.long(), 0, torch.qint8)
    return {
        "quantize_per_channel_int8": best_time(lambda: torch.quantize_per_channel(w, scale.double(), zp.long(), 0, torch.qint8)),
        "dequantize_per_channel_int8": best_time(lambda: q.dequantize()),
        "fake_quantize_per_channel_int8": best_time(
            lambda: torch.fake_quantize_per_channel_affine(w, scale, zp, 0, -128, 127)),
    }


def ladle_times(binary):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=5",
                          "--benchmark_report_aggregates_only=false",
                          "--benchmark_filter=per_channel_int8"],
                         check=True, capture_output=True, text=True).stdout
    data = json.loads(out)
    times = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["name"].split("/")[0].replace("BM_", "")
        unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b.get("time_unit", "ns")]
        t = (b["real_time"] * unit, b["cpu_time"] * unit)
        old = times.get(name, (float("inf"), float("inf")))
        times[name] = (min(old[0], t[0]), min(old[1], t[1]))
        if "bw_frac" in b:
            times[name + ":bw_frac"] = max(times.get(name + ":bw_frac", 0.0), b["bw_frac"])
    return times


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "benchmarks", "bench_quantization")
    t = torch_times()
    l = ladle_times(binary)
    print(f"torch {torch.__version__}, 1 thread; 4096 x 4096 float32")
    print("wall = best wall-clock seconds, cpu = best CPU seconds (less sensitive to a busy machine)")
    print(f"{'op':32s} {'torch wall':>10s} {'ladle wall':>10s} {'ratio':>7s} {'torch cpu':>10s} {'ladle cpu':>10s}"
          f" {'ratio':>7s} {'bw_frac':>8s}")
    for op in ["quantize_per_channel_int8", "dequantize_per_channel_int8", "fake_quantize_per_channel_int8"]:
        tw, tc = t[op]
        if op not in l:
            print(f"{op:32s} {tw:10.4f} {'-':>10s}")
            continue
        lw, lc = l[op]
        print(f"{op:32s} {tw:10.4f} {lw:10.4f} {tw / lw:6.1f}x {tc:10.4f} {lc:10.4f} {tc / lc:6.1f}x"
              f" {l.get(op + ':bw_frac', float('nan')):8.2f}")


if __name__ == "__main__":
    main()
