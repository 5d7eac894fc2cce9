#!/usr/bin/python3
"""ladle vs PyTorch 1.13 on 4096 x 4096 float32 weights, one thread each.

  torch.quantize_per_channel (int8), Tensor.dequantize, torch.fake_quantize_per_channel_affine
  vs ladle's bench_quantization: the `_into` forms (caller buffers: BM_quantize_per_channel_int8,
  BM_dequantize_per_channel_int8, BM_fake_quantize_per_channel_int8) and the owning forms (a fresh
  result per call, as torch returns: BM_*_owning_*), plus BM_first_touch (allocating and writing
  a fresh result-sized buffer once: the page-fault floor an owning form pays).

Usage: /usr/bin/python3 benchmarks/compare/quantization_vs_torch.py [path/to/bench_quantization]
       [--rounds 5]     (default binary: build/benchmarks/bench_quantization)
Rounds interleave one torch timing per op with one run of the ladle binary; the table shows
medians of wall seconds per call (these kernels are memory-bound and single-threaded, so wall and
CPU agree on an idle core; CPU medians are printed too) and torch/ladle ratios.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

peer_setup.pin_one_thread()

import torch  # noqa: E402

torch.set_num_threads(1)

OPS = ["quantize_per_channel_int8", "dequantize_per_channel_int8", "fake_quantize_per_channel_int8"]


def torch_ops():
    g = torch.Generator().manual_seed(1)
    w = (torch.rand(4096, 4096, generator=g) * 2 - 1) * 0.05
    amax = w.abs().amax(dim=1)
    scale = (amax / 127.5).float()
    zp = torch.zeros(4096, dtype=torch.int32)
    q = torch.quantize_per_channel(w, scale.double(), zp.long(), 0, torch.qint8)
    return {
        "quantize_per_channel_int8": lambda: torch.quantize_per_channel(w, scale.double(), zp.long(), 0, torch.qint8),
        "dequantize_per_channel_int8": lambda: q.dequantize(),
        "fake_quantize_per_channel_int8": lambda: torch.fake_quantize_per_channel_affine(w, scale, zp, 0, -128, 127),
    }


def time_once(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def ladle_round(binary):
    """{name: (wall, cpu)} of one run of every per-channel case and the first-touch floors."""
    out = subprocess.run([binary, "--benchmark_format=json",
                          "--benchmark_filter=per_channel_int8|first_touch"],
                         check=True, capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["name"].split("/")[0].replace("BM_", "")
        unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b.get("time_unit", "ns")]
        times[name] = (b["real_time"] * unit, b["cpu_time"] * unit)
    return times


def main():
    args, rounds, argv = [], 5, sys.argv[1:]
    while argv:  # --rounds N or --rounds=N, and an optional binary path
        a = argv.pop(0)
        if a == "--rounds":
            rounds = int(argv.pop(0))
        elif a.startswith("--rounds="):
            rounds = int(a.split("=", 1)[1])
        else:
            args.append(a)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    binary = args[0] if args else os.path.join(root, "build", "benchmarks", "bench_quantization")
    print("machine:", peer_setup.machine_report())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; 4096 x 4096 float32")
    print(peer_setup.blas_report(require_optimised=False))
    ops = torch_ops()
    for fn in ops.values():
        fn()  # warm-up
    t_wall = {op: [] for op in OPS}
    t_cpu = {op: [] for op in OPS}
    l_runs = []
    for r in range(rounds):
        steps = [lambda: l_runs.append(ladle_round(binary)), None]
        if r % 2:
            steps.reverse()
        for step in steps:
            if step is not None:
                step()
                continue
            for op in OPS:
                w, c = time_once(ops[op])
                t_wall[op].append(w)
                t_cpu[op].append(c)
    med = peer_setup.median

    def lmed(name, i):
        xs = [run[name][i] for run in l_runs if name in run]
        return med(xs) if xs else float("nan")

    print(f"median of {rounds} interleaved rounds; seconds per call (wall | cpu)")
    print(f"{'op':32s} {'torch':>15s} {'ladle _into':>15s} {'ratio':>7s} {'ladle owning':>15s} {'ratio':>7s}")
    for op in OPS:
        tw, tc = med(t_wall[op]), med(t_cpu[op])
        iw, ic = lmed(op, 0), lmed(op, 1)
        own = op.replace("_per_channel", "_owning_per_channel")
        ow, oc = lmed(own, 0), lmed(own, 1)
        print(f"{op:32s} {tw:7.4f}|{tc:7.4f} {iw:7.4f}|{ic:7.4f} {tw / iw:6.1f}x {ow:7.4f}|{oc:7.4f} {tw / ow:6.1f}x")
    for ft in ("first_touch<std::int8_t>", "first_touch<float>"):
        print(f"{ft:32s} {'':15s} {lmed(ft, 0):7.4f}|{lmed(ft, 1):7.4f}")
    print("after:", peer_setup.load_average())


if __name__ == "__main__":
    main()
