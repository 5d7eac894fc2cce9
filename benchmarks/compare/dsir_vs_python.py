#!/usr/bin/python3
"""DSIR featurise + log importance weights, single thread: ladle vs a Python re-implementation of
the reference (p-lambda/dsir's HashedNgramDSIR, which is not installed here: this stand-in does
what its featuriser and compute_importance_weights do per document: str.lower, NLTK's WordPunct
regex, hashlib SHA-256 -> int mod buckets into a fresh dense int64 vector, then numpy dot).

Text: every KJV verse (Debian bible-kjv: `bible -f Gen1:1-Rev22:21`, the reference "Ge1:1" cut
off) + every fortune cookie (/usr/share/games/fortunes, one per line); target: the Gospels.
Both sides fit the raw and target models untimed, then time featurise + weight of every raw line.
The per-document log weights of the two are compared (max relative difference).

    /usr/bin/python3 benchmarks/compare/dsir_vs_python.py [--reps 3] [--bench PATH]

Interleaved runs (Python then ladle per rep), medians of CPU seconds; `uptime` load printed.
"""
import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_setup  # noqa: E402

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

BUCKETS = 10000
WORDPUNCT = re.compile(r"\w+|[^\w\s]+")
GOSPELS = ("Mat", "Mark", "Luke", "John")


def corpus(tmp):
    out = subprocess.run(["/usr/bin/bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, check=True,
                         text=True).stdout
    verses, target = [], []
    for line in out.splitlines():
        ref, text = line.split(" ", 1)
        verses.append(text)
        if ref.rstrip("0123456789:") in GOSPELS:
            target.append(text)
    fortunes = []
    d = "/usr/share/games/fortunes"
    for name in sorted(os.listdir(d)):
        if "." in name:
            continue
        cur = []
        for line in open(os.path.join(d, name), encoding="utf-8"):
            line = line.rstrip("\n")
            if line == "%":
                if cur:
                    fortunes.append(" ".join(cur))
                cur = []
            else:
                cur.append(line)
        if cur:
            fortunes.append(" ".join(cur))
    raw = verses + fortunes
    raw_path, target_path = os.path.join(tmp, "raw.txt"), os.path.join(tmp, "target.txt")
    with open(raw_path, "w", encoding="utf-8") as f:
        f.writelines(x + "\n" for x in raw)
    with open(target_path, "w", encoding="utf-8") as f:
        f.writelines(x + "\n" for x in target)
    return raw, target, raw_path, target_path, len(verses), len(fortunes)


def featurize(text):
    toks = WORDPUNCT.findall(text.lower())
    v = np.zeros(BUCKETS, dtype=np.int64)
    for g in toks + [a + " " + b for a, b in zip(toks, toks[1:])]:
        v[int(hashlib.sha256(g.encode("utf-8")).hexdigest(), 16) % BUCKETS] += 1
    return v


def fit(docs):
    total = np.zeros(BUCKETS, dtype=np.int64)
    for d in docs:
        total += featurize(d)
    return total / total.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--bench")
    args = ap.parse_args()
    bench = peer_setup.find_bench(args.bench, "bench_selection")
    try:
        from threadpoolctl import threadpool_info
        blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    with tempfile.TemporaryDirectory() as tmp:
        raw, target, raw_path, target_path, nv, nf = corpus(tmp)
        nbytes = os.path.getsize(raw_path)
        p, q = fit(raw), fit(target)
        log_diff = np.log(q + 1e-8) - np.log(p + 1e-8)
        py_s, ladle_s, py_w = [], [], None
        env = dict(os.environ, LADLE_DSIR_WEIGHTS_OUT=os.path.join(tmp, "w.bin"))
        for _ in range(args.reps):
            c0 = time.process_time()
            w = np.array([featurize(d).dot(log_diff) for d in raw])
            py_s.append(time.process_time() - c0)
            py_w = w
            out = subprocess.run([str(bench), "--once", "dsir", raw_path, target_path], capture_output=True,
                                 text=True, check=True, env=env)
            ladle_s.append(float(out.stdout.split()[0]))
        lw = np.fromfile(os.path.join(tmp, "w.bin"), dtype=np.float64)
        rel = np.abs(lw - py_w) / np.maximum(np.abs(py_w), 1e-300)
        rel[py_w == 0] = np.abs(lw[py_w == 0])
    mp, ml = statistics.median(py_s), statistics.median(ladle_s)
    print(f"text: {nv} KJV verses + {nf} fortunes = {len(raw)} documents, {nbytes / 1e6:.2f} MB; "
          f"target {len(target)} Gospel verses")
    print(f"featurise + log weights, single thread, median of {args.reps} (CPU s):")
    print(f"  python stand-in  {mp:8.3f} s  {nbytes / mp / 1e6:7.2f} MB/s   runs {['%.3f' % x for x in py_s]}")
    print(f"  ladle            {ml:8.3f} s  {nbytes / ml / 1e6:7.2f} MB/s   runs {['%.3f' % x for x in ladle_s]}")
    print(f"  ratio            {mp / ml:8.1f}x")
    print(f"log weights: max relative difference {rel.max():.3g} over {len(lw)} documents "
          f"(weights from {lw.min():.1f} to {lw.max():.1f})")
    print(f"blas: {blas}")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
