"""Shared by benchmarks/compare/*.py: peers run the way users run them, and honest summaries.

* One thread everywhere: `pin_one_thread()` must run before numpy / scipy / torch / faiss load.
* BLAS: numpy, SciPy, scikit-learn and faiss must use an optimised BLAS (on Debian:
  `apt-get install libopenblas0-pthread`; the reference netlib BLAS, Debian's default until then,
  is several times slower and not what users run). `blas_report()` prints the library, its
  version and the kernel it picked (threadpoolctl), and refuses to go on without OpenBLAS, MKL or
  BLIS unless ALLOW_NETLIB=1.
* OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: some machines set them so that old OpenBLAS builds pick a
  safe kernel; they slow a current one down. Benchmark with both unset for that command only
  (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 ...`); the report says which
  kernel then runs, and `sgemm_check()` verifies that kernel's float32 GEMM against float64.
* Timing: `interleave()` alternates ladle and peer runs round by round (ABAB, then BABA), so a
  load change hits both sides; summaries are medians. `machine_report()` gives the CPU model and
  the load at the time.
"""
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def pin_one_thread():
    for var in THREAD_VARS:
        os.environ[var] = "1"


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def load_average():
    try:
        return "load average %.2f, %.2f, %.2f" % os.getloadavg()
    except OSError:
        return "load average unavailable"


def machine_report():
    return (f"{cpu_model()}, {os.cpu_count()} logical CPUs; {load_average()} at "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")


def blas_report(require_optimised=True):
    """One line per BLAS / OpenMP library loaded in this process (call after importing numpy and
    the peer). Exits when only a reference BLAS is found, unless ALLOW_NETLIB=1."""
    lines = []
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed: BLAS unknown"
    info = threadpool_info()
    optimised = False
    for lib in info:
        if lib.get("user_api") == "blas":
            optimised |= lib.get("internal_api") in ("openblas", "mkl", "blis")
            lines.append(f"BLAS {lib.get('internal_api')} {lib.get('version')} kernel "
                         f"{lib.get('architecture', '-')} threads {lib.get('num_threads')} "
                         f"({lib.get('filepath')})")
        else:
            lines.append(f"{lib.get('user_api')} {lib.get('internal_api')} threads "
                         f"{lib.get('num_threads')}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            lines.append(f"WARNING {var}={os.environ[var]} is set: it forces an OpenBLAS kernel users "
                         f"do not get; rerun with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`")
    if not any(lib.get("user_api") == "blas" for lib in info):
        lines.append("no BLAS loaded (yet)")
    elif require_optimised and not optimised and os.environ.get("ALLOW_NETLIB") != "1":
        sys.exit("only a reference BLAS is loaded: install libopenblas0-pthread (Debian) so the "
                 "peers run as users run them, or set ALLOW_NETLIB=1\n" + "\n".join(lines))
    return "\n".join(lines)


def sgemm_check():
    """float32 GEMM of the loaded BLAS against float64: returns the max relative error (a kernel
    picked for the wrong CPU shows up here as garbage or a crash)."""
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((257, 129)).astype(np.float32)
    b = rng.standard_normal((129, 263)).astype(np.float32)
    got = a @ b
    want = a.astype(np.float64) @ b.astype(np.float64)
    err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    if not err < 1e-5:
        sys.exit(f"float32 GEMM of the loaded BLAS is wrong (max relative error {err:.3g})")
    return err


def interleave(runners, rounds):
    """runners: {name: callable returning seconds}. Calls each once per round, alternating the
    order every round; returns {name: [seconds, ...]}."""
    names = list(runners)
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(runners[name]())
    return times


def median(xs):
    return statistics.median(xs)


def spread(xs):
    """'median (min-max)' of a list of seconds."""
    return f"{median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f})"


def find_bench(explicit, name):
    """The benchmark binary `name`: `explicit` when given, else the first build*/benchmarks/name
    under the repository root."""
    if explicit:
        return pathlib.Path(explicit)
    root = pathlib.Path(__file__).resolve().parents[2]
    for build in sorted(root.glob("build*")):
        candidate = build / "benchmarks" / name
        if candidate.exists():
            return candidate
    sys.exit(f"{name} not found; build it (ninja {name}) or pass --bench PATH")


def print_child_table(results, rounds, first_column):
    """Prints the median wall and CPU seconds and the largest peak RSS of each (case, binary) in
    results (lists of (wall s, cpu s, peak RSS MiB) from soup_files_vs_numpy.run_child), then the
    load average."""
    print(f"median of {rounds} interleaved rounds (peak RSS: the largest)")
    print(f"{first_column:18s}{'binary':8s}{'wall s':>9s}{'cpu s':>9s}{'peak RSS MiB':>14s}")
    for (case, name), rs in results.items():
        wall = median([x[0] for x in rs])
        cpu = median([x[1] for x in rs])
        print(f"{case:18s}{name:8s}{wall:9.2f}{cpu:9.2f}{max(x[2] for x in rs):14.0f}")
    print("load after:", load_average())


def new_and_old_binaries(usage):
    """{"new": path[, "old": path]} from the command line's positional arguments (those not
    following a --option); exits with `usage` when there is none."""
    positional = [a for i, a in enumerate(sys.argv[1:], 1)
                  if not a.startswith("--") and not sys.argv[i - 1].startswith("--")]
    if not positional:
        sys.exit(usage)
    binaries = {"new": positional[0]}
    if len(positional) > 1:
        binaries["old"] = positional[1]
    return binaries
