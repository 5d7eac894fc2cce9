#!/usr/bin/python3
"""Peak memory of `ladle merge` on large checkpoints, one binary against another (e.g. before and
after a change), every method.

  /usr/bin/python3 benchmarks/compare/merge_memory.py NEW_LADLE [OLD_LADLE] [--gib G]
      [--rounds R] [--dir D]

Writes 3 checkpoints of G GiB each (float32, 64 MiB tensors, standard normal values; the soup
benchmark's writer) into D (default /tmp/ladle-merge-bench; reused when present), then runs
`ladle merge --base model-0 model-1 model-2` with task-arithmetic, ties --density 0.5,
dare --density 0.7 and slerp (of model-0 and model-1), each binary in its own child process, in
interleaved rounds. The table gives per method and binary the median wall and CPU seconds and the
largest peak RSS (ru_maxrss) over the rounds. With two binaries, their outputs are compared byte
for byte. Warm page cache: the inputs fit in memory here.
"""
import filecmp
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402
import soup_files_vs_numpy as soup  # noqa: E402

METHODS = {
    "task-arithmetic": ["--method", "task-arithmetic", "--weights", "1,0.5", "--lambda", "0.7"],
    "ties": ["--method", "ties", "--density", "0.5"],
    "dare": ["--method", "dare", "--density", "0.7", "--seed", "3"],
    "slerp": ["--method", "slerp", "--t", "0.3"],
}


def main():
    binaries = peer_setup.new_and_old_binaries(__doc__)
    gib, rounds = soup.arg("--gib", 1, int), soup.arg("--rounds", 2, int)
    folder = soup.arg("--dir", "/tmp/ladle-merge-bench", str)
    os.makedirs(folder, exist_ok=True)
    files = []
    for i in range(3):
        path = os.path.join(folder, f"model-{i}-{gib}g.safetensors")
        if not os.path.exists(path):
            soup.write_checkpoint(path, gib, 200 + i)
        files.append(path)
    print("machine:", peer_setup.machine_report())
    print(f"3 checkpoints x {gib} GiB float32 (64 MiB tensors) in {folder}; warm page cache")

    def argv(binary, method, out):
        models = files[:2] if method == "slerp" else files
        return [binary, "merge", "-q", "-f", "-o", out, "--base", models[0]] + models[1:] + METHODS[method]

    results = {}
    for method in METHODS:
        for r in range(rounds):
            order = list(binaries) if r % 2 == 0 else list(binaries)[::-1]
            for name in order:
                out = os.path.join(folder, f"out-{name}.safetensors")
                results.setdefault((method, name), []).append(soup.run_child(argv(binaries[name], method, out)))
        same = ""
        if len(binaries) > 1:
            same = filecmp.cmp(os.path.join(folder, "out-new.safetensors"),
                               os.path.join(folder, "out-old.safetensors"), shallow=False)
            same = f"   outputs byte-identical: {same}"
        print(f"{method}: done{same}", flush=True)
    peer_setup.print_child_table(results, rounds, "method")


if __name__ == "__main__":
    main()
