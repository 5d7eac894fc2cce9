#!/usr/bin/python3
"""Peak memory of `ladle quantize` (and `ladle dequantize`) on one large tensor, one binary
against another (e.g. before and after a change).

  /usr/bin/python3 benchmarks/compare/quantize_memory.py NEW_LADLE [OLD_LADLE] [--gib G]
      [--rounds R] [--dir D]

Writes a checkpoint holding ONE float32 tensor of G GiB ([rows, 4096], standard normal values,
written in 64 MiB pieces) into D (default /tmp/ladle-quant-bench; reused when present), then
runs `ladle quantize` with int8 channel, nf4 group:64, mxfp4 and fp8-e4m3 tensor (the last reads
the tensor twice: amax, then codes), and `ladle dequantize` of the int8 output, each binary in its
own child process, in interleaved rounds. The table gives per case and binary the median wall and
CPU seconds and the largest peak RSS (ru_maxrss) over the rounds. With two binaries, their outputs
are compared byte for byte. Warm page cache: the input fits in memory here.
"""
import filecmp
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402
import soup_files_vs_numpy as soup  # noqa: E402

COLS = 4096
CASES = {
    "int8 channel": ["quantize", "--format", "int8"],
    "nf4 group:64": ["quantize", "--format", "nf4"],
    "mxfp4": ["quantize", "--format", "mxfp4"],
    "fp8-e4m3 tensor": ["quantize", "--format", "fp8-e4m3", "--granularity", "tensor"],
    "dequantize int8": ["dequantize"],
}


def write_single_tensor(path, gib, seed):
    rows = gib * (1 << 30) // (4 * COLS)
    hdr = {"__metadata__": {"format": "pt"},
           "w": {"dtype": "F32", "shape": [rows, COLS], "data_offsets": [0, rows * COLS * 4]}}
    text = json.dumps(hdr).encode()
    text += b" " * (-len(text) % 8)
    rng = np.random.default_rng(seed)
    piece = (64 << 20) // (4 * COLS)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for r in range(0, rows, piece):
            f.write(rng.standard_normal((min(piece, rows - r), COLS), dtype=np.float32).tobytes())
    os.rename(path + ".tmp", path)


def main():
    binaries = peer_setup.new_and_old_binaries(__doc__)
    gib, rounds = soup.arg("--gib", 1, int), soup.arg("--rounds", 2, int)
    folder = soup.arg("--dir", "/tmp/ladle-quant-bench", str)
    os.makedirs(folder, exist_ok=True)
    src = os.path.join(folder, f"single-{gib}g.safetensors")
    if not os.path.exists(src):
        write_single_tensor(src, gib, 300)
    print("machine:", peer_setup.machine_report())
    print(f"one float32 tensor of {gib} GiB ([{gib * (1 << 30) // (4 * COLS)}, {COLS}]) in {folder}; warm page cache")

    def argv(binary, case, name):
        out = os.path.join(folder, f"out-{name}.safetensors")
        if case.startswith("dequantize"):
            # Each binary reads the int8 file it wrote itself (identical when the outputs match).
            q = os.path.join(folder, f"int8-{name}.safetensors")
            return [binary, "dequantize", "-q", "-f", "-o", out, q]
        return [binary] + CASES[case][:1] + ["-q", "-f", "-o", out, src] + CASES[case][1:]

    results = {}
    for case in CASES:
        for r in range(rounds):
            order = list(binaries) if r % 2 == 0 else list(binaries)[::-1]
            for name in order:
                results.setdefault((case, name), []).append(soup.run_child(argv(binaries[name], case, name)))
                if case == "int8 channel":
                    os.replace(os.path.join(folder, f"out-{name}.safetensors"),
                               os.path.join(folder, f"int8-{name}.safetensors"))
        same = ""
        if len(binaries) > 1:
            a, b = (f"int8-{n}" if case == "int8 channel" else f"out-{n}" for n in ("new", "old"))
            same = filecmp.cmp(os.path.join(folder, a + ".safetensors"),
                               os.path.join(folder, b + ".safetensors"), shallow=False)
            same = f"   outputs byte-identical: {same}"
        print(f"{case}: done{same}", flush=True)
    peer_setup.print_child_table(results, rounds, "case")


if __name__ == "__main__":
    main()
