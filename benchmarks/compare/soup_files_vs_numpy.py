#!/usr/bin/python3
"""Uniform soup of K safetensors checkpoints on disk: `ladle soup` against a numpy memmap version.

  /usr/bin/python3 benchmarks/compare/soup_files_vs_numpy.py [path/to/ladle] [--files K]
      [--gib G] [--rounds R] [--dir D] [--ladle-only]

Writes K checkpoints of G GiB each (float32, 64 MiB tensors, standard normal values) into D
(default /tmp/ladle-soup-bench; reused when present), then times, in interleaved rounds:
  ladle    `ladle soup -q -f -o D/out-ladle.safetensors D/model-*.safetensors` (streams each tensor
           in 64 MiB windows, releases the pages it has read, writes atomically with fsync);
  numpy    the direct numpy version: np.memmap every file, and per tensor acc = x_0.copy();
           acc += x_k ...; acc /= K; write the header and the tensors (no fsync).
Each side runs in its own child process; the table gives medians of wall seconds, the input read
rate (K * G GiB / wall) and the child's peak RSS (ru_maxrss). The files stay in the page cache
between rounds (they fit in memory here), so this measures a warm cache, not the disk.
Finally the two outputs are compared (ladle's running mean against numpy's sum / K).
"""
import json
import os
import resource
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

import numpy as np  # noqa: E402

TENSOR_BYTES = 64 << 20

NUMPY_CHILD = r"""
import json, struct, sys
import numpy as np
out, files = sys.argv[1], sys.argv[2:]
def header(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n)), 8 + n
metas = [header(p) for p in files]
maps = [np.memmap(p, dtype=np.uint8, mode='r') for p in files]
h0, _ = metas[0]
names = [k for k in h0 if k != '__metadata__']
results, offset = {}, 0
for name in names:
    acc = None
    for (h, base), mm in zip(metas, maps):
        b, e = h[name]['data_offsets']
        x = mm[base + b: base + e].view(np.float32)
        if acc is None:
            acc = np.array(x)
        else:
            acc += x
    acc /= np.float32(len(files))
    results[name] = acc
    offset += acc.nbytes
hdr, at = {}, 0
for name in names:
    hdr[name] = {'dtype': 'F32', 'shape': h0[name]['shape'], 'data_offsets': [at, at + results[name].nbytes]}
    at += results[name].nbytes
raw = json.dumps(hdr).encode()
raw += b' ' * (-len(raw) % 8)
with open(out, 'wb') as f:
    f.write(struct.pack('<Q', len(raw)))
    f.write(raw)
    for name in names:
        f.write(results[name].tobytes())
"""


def write_checkpoint(path, gib, seed):
    count = gib * (1 << 30) // TENSOR_BYTES
    elems = TENSOR_BYTES // 4
    hdr, at = {"__metadata__": {"format": "pt"}}, 0
    for t in range(count):
        hdr[f"layers.{t}.weight"] = {"dtype": "F32", "shape": [elems // 4096, 4096],
                                     "data_offsets": [at, at + TENSOR_BYTES]}
        at += TENSOR_BYTES
    raw = json.dumps(hdr).encode()
    raw += b" " * (-len(raw) % 8)
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for t in range(count):
            f.write(rng.standard_normal(elems, dtype=np.float32).tobytes())
    os.replace(tmp, path)


def run_child(argv):
    """Runs argv; returns (wall seconds, cpu seconds, peak RSS in MiB) of that child alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{argv[0]} failed with status {status}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def arg(name, default, cast):
    if name in sys.argv:
        return cast(sys.argv[sys.argv.index(name) + 1])
    return default


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    positional = [a for i, a in enumerate(sys.argv[1:], 1)
                  if not a.startswith("--") and not sys.argv[i - 1].startswith("--")]
    ladle = positional[0] if positional else os.path.join(root, "build", "tools", "ladle", "ladle")
    k, gib = arg("--files", 4, int), arg("--gib", 1, int)
    rounds, folder = arg("--rounds", 3, int), arg("--dir", "/tmp/ladle-soup-bench", str)
    ladle_only = "--ladle-only" in sys.argv
    os.makedirs(folder, exist_ok=True)
    files = []
    for i in range(k):
        path = os.path.join(folder, f"model-{i}-{gib}g.safetensors")
        if not os.path.exists(path):
            write_checkpoint(path, gib, 100 + i)
        files.append(path)
    print("machine:", peer_setup.machine_report())
    print(f"numpy {np.__version__}; {k} checkpoints x {gib} GiB float32 ({TENSOR_BYTES >> 20} MiB "
          f"tensors) in {folder}; warm page cache")
    out_l = os.path.join(folder, "out-ladle.safetensors")
    out_n = os.path.join(folder, "out-numpy.safetensors")
    runners = {"ladle": lambda: run_child([ladle, "soup", "-q", "-f", "--threads", "1", "-o", out_l] + files)}
    if not ladle_only:
        runners["numpy"] = lambda: run_child([sys.executable, "-c", NUMPY_CHILD, out_n] + files)
    for name in runners:  # warm the page cache and the binaries once
        runners[name]()
    results = {name: [] for name in runners}
    for r in range(rounds):
        for name in (list(runners) if r % 2 == 0 else list(runners)[::-1]):
            results[name].append(runners[name]())
    gb = k * gib * (1 << 30) / 1e9
    print(f"median of {rounds} interleaved rounds")
    print(f"{'':8s}{'wall s':>10s}{'cpu s':>10s}{'GB/s read':>11s}{'peak RSS MiB':>14s}")
    for name, rs in results.items():
        wall = peer_setup.median([x[0] for x in rs])
        cpu = peer_setup.median([x[1] for x in rs])
        rss = max(x[2] for x in rs)
        print(f"{name:8s}{wall:10.2f}{cpu:10.2f}{gb / wall:11.2f}{rss:14.0f}")
    if not ladle_only:
        w = peer_setup.median([x[0] for x in results["numpy"]]) / peer_setup.median(
            [x[0] for x in results["ladle"]])
        print(f"numpy wall / ladle wall: {w:.2f}x")
        a = np.memmap(out_l, dtype=np.uint8, mode="r")
        b = np.memmap(out_n, dtype=np.uint8, mode="r")
        ha = json.loads(bytes(a[8:8 + struct.unpack("<Q", bytes(a[:8]))[0]]))
        hb = json.loads(bytes(b[8:8 + struct.unpack("<Q", bytes(b[:8]))[0]]))
        base_a = 8 + struct.unpack("<Q", bytes(a[:8]))[0]
        base_b = 8 + struct.unpack("<Q", bytes(b[:8]))[0]
        worst = 0.0
        for name in hb:
            xa = a[base_a + ha[name]["data_offsets"][0]: base_a + ha[name]["data_offsets"][1]].view(np.float32)
            xb = b[base_b + hb[name]["data_offsets"][0]: base_b + hb[name]["data_offsets"][1]].view(np.float32)
            worst = max(worst, float(np.max(np.abs(xa.astype(np.float64) - xb))))
        print(f"outputs agree: max |ladle - numpy| = {worst:.3g}")
    print("load after:", peer_setup.load_average())


if __name__ == "__main__":
    main()
