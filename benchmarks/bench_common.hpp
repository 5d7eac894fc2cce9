// Shared by every benchmark program: a memory-bandwidth reference and the core's fp32 FMA peak,
// both measured in the same binary, so family benchmarks can report "fraction of bandwidth" and
// "fraction of peak" next to their own GB/s and GFLOP/s.
#pragma once

#include <benchmark/benchmark.h>
#include <ladle/core/simd.hpp>
#include <ladle/core/simd_memory.hpp>
#include <ladle/core/size.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#  include <time.h>
#endif

namespace ladle_bench {

/// One pass of the best copy loop ladle can write: batch loads with a software prefetch ahead,
/// cache-bypassing stores (falls back to memcpy without SIMD).
inline void tuned_copy(const float* src, float* dst, std::size_t n) {
#if LADLE_HAS_SIMD
  using fb = ladle::simd::batch<float>;
  ladle::simd::store_floats(
      dst, static_cast<ladle::index_t>(n), true,
      [&](ladle::index_t i) {
        ladle::simd::prefetch(src + i);
        return fb::load_unaligned(src + i);
      },
      [&](ladle::index_t i) { dst[i] = src[i]; });
  ladle::simd::stream_fence();
#else
  std::memcpy(dst, src, n * sizeof(float));
#endif
}

/// One timed pass of a copy reference over n floats: glibc's memcpy (method 0) or tuned_copy
/// (method 1); returns read+write GB/s, counted as 2 * bytes copied.
inline double timed_copy_gbs(const float* a, float* b, std::size_t n, int method) {
  const auto t0 = std::chrono::steady_clock::now();
  if (method == 0) std::memcpy(b, a, n * sizeof(float));
  else tuned_copy(a, b, n);
  benchmark::DoNotOptimize(b);
  benchmark::ClobberMemory();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * double(n * sizeof(float)) / s / 1e9;
}

/// Two float buffers from the core allocator, which advises buffers of 4 MiB or more as
/// transparent huge pages, as ladle::tensor does for a kernel's own data: the reference must run
/// on the same page size as the kernel (with 4 KiB pages a 100 MB stream costs TLB misses).
struct copy_buffers {
  explicit copy_buffers(std::size_t n_)
      : n(n_), a(ladle::detail::allocate_aligned<float>(static_cast<ladle::index_t>(n_))),
        b(ladle::detail::allocate_aligned<float>(static_cast<ladle::index_t>(n_))) {
    std::fill(a.get(), a.get() + n, 1.0f);
    std::fill(b.get(), b.get() + n, 0.0f);
  }
  std::size_t n;
  ladle::detail::aligned_ptr<float> a, b;
};

/// Single-thread read+write bandwidth (GB/s) of this machine, counted as 2 * bytes copied: the
/// traffic of a streaming kernel that reads its input once and writes its output once. It is the
/// better of glibc's memcpy and tuned_copy over `bytes` bytes, best of 10 passes each after 3
/// untimed ones (first passes over fresh memory run slow on virtual machines, where the host
/// backs pages lazily). Pass the kernel's own input size: a working set that fits the last-level
/// cache runs faster than one that does not, and the reference must see the same. Cached per size.
/// Measured once, at the start: on a virtual machine whose bandwidth drifts, prefer
/// interleaved_copy below.
inline double copy_bandwidth_gbs(std::size_t bytes = std::size_t(256) << 20) {
  static std::map<std::size_t, double> cache;
  const auto hit = cache.find(bytes);
  if (hit != cache.end()) return hit->second;
  copy_buffers buf(bytes / sizeof(float));
  double best = 0;
  for (int method = 0; method < 2; ++method)
    for (int rep = 0; rep < 13; ++rep) {
      const double gbs = timed_copy_gbs(buf.a.get(), buf.b.get(), buf.n, method);
      if (rep >= 3) best = std::max(best, gbs);
    }
  cache[bytes] = best;
  return best;
}

/// A copy reference measured between a kernel's timed iterations (call pass() with the timing
/// paused), so the reference sees the memory bandwidth of the same minutes as the kernel: on a
/// virtual machine it drifts by a third within a run. Each pass times both copy methods; the
/// reference is the median over passes of the better method's rate in that pass.
class interleaved_copy {
 public:
  explicit interleaved_copy(std::size_t bytes) : buf_(bytes / sizeof(float)) {
    for (int warm = 0; warm < 2; ++warm) pass(false);
  }
  void pass(bool record = true) {
    const double m = timed_copy_gbs(buf_.a.get(), buf_.b.get(), buf_.n, 0);
    const double t = timed_copy_gbs(buf_.a.get(), buf_.b.get(), buf_.n, 1);
    if (record) rates_.push_back(std::max(m, t));
  }
  double median_gbs() const {
    if (rates_.empty()) return 0;
    std::vector<double> r = rates_;
    std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
    return r[r.size() / 2];
  }

 private:
  copy_buffers buf_;
  std::vector<double> rates_;
};

/// Adds GB/s, the copy reference for a working set of `copy_bytes` bytes (ref_GB/s) and the
/// fraction of it reached (bw_frac) for a kernel that moved `bytes_per_iter`.
inline void report_bandwidth(benchmark::State& state, double bytes_per_iter,
                             std::size_t copy_bytes = std::size_t(256) << 20) {
  const double bytes = bytes_per_iter * double(state.iterations());
  const double ref = copy_bandwidth_gbs(copy_bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["ref_GB/s"] = ref;
  state.counters["bw_frac"] = benchmark::Counter(bytes / 1e9 / ref, benchmark::Counter::kIsRate);
}

/// report_bandwidth against an interleaved reference.
inline void report_bandwidth(benchmark::State& state, double bytes_per_iter,
                             const interleaved_copy& ref_probe) {
  const double bytes = bytes_per_iter * double(state.iterations());
  const double ref = ref_probe.median_gbs();
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["ref_GB/s"] = ref;
  state.counters["bw_frac"] = benchmark::Counter(bytes / 1e9 / ref, benchmark::Counter::kIsRate);
}

// Seconds of CPU time of this thread (wall time where unavailable): the machines these run on
// are shared, and CPU time keeps the peak and the kNN rate comparable under contention.
inline double thread_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
#else
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
}

// Single-thread fp32 FMA peak (GFLOP/s): 12 independent accumulators cover FMA latency x ports
// (4 x 2 = 8) on current x86 cores; measured once, best of 5. (xsimd 8 spells fma on AVX-512 as
// a multiply and an add, which GCC and Clang contract back into vfmadd: checked in the binary.)
inline double fma_peak_gflops() {
  static const double peak = [] {
    double best = 0;
    const long iters = 20'000'000;
    for (int rep = 0; rep < 5; ++rep) {
#if LADLE_HAS_SIMD
      using B = ladle::simd::batch<float>;
      constexpr int lanes = static_cast<int>(ladle::simd::lanes<float>);
#else
      using B = float;
      constexpr int lanes = 1;
#endif
      // Twelve named accumulators (an array would be kept in memory once its address escapes).
      B a0(1.0f), a1(1.1f), a2(1.2f), a3(1.3f), a4(1.4f), a5(1.5f);
      B a6(1.6f), a7(1.7f), a8(1.8f), a9(1.9f), a10(2.0f), a11(2.1f);
      B x(0.999999f), y(1e-7f);
      benchmark::DoNotOptimize(x);
      benchmark::DoNotOptimize(y);
      const double t0 = thread_seconds();
      for (long it = 0; it < iters; ++it) {
#if LADLE_HAS_SIMD
#  define LADLE_BENCH_FMA(a) a = xsimd::fma(a, x, y)
#else
#  define LADLE_BENCH_FMA(a) a = a * x + y
#endif
        LADLE_BENCH_FMA(a0); LADLE_BENCH_FMA(a1); LADLE_BENCH_FMA(a2); LADLE_BENCH_FMA(a3);
        LADLE_BENCH_FMA(a4); LADLE_BENCH_FMA(a5); LADLE_BENCH_FMA(a6); LADLE_BENCH_FMA(a7);
        LADLE_BENCH_FMA(a8); LADLE_BENCH_FMA(a9); LADLE_BENCH_FMA(a10); LADLE_BENCH_FMA(a11);
#undef LADLE_BENCH_FMA
      }
      B total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
      benchmark::DoNotOptimize(total);
      const double s = thread_seconds() - t0;
      best = std::max(best, 2.0 * lanes * 12.0 * double(iters) / s / 1e9);
    }
    return best;
  }();
  return peak;
}

/// Reports the FMA peak as a counter (peak_GFLOPs), so every benchmark program can print it
/// next to its own rates.
inline void BM_fma_peak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fma_peak_gflops());
  state.counters["peak_GFLOPs"] = fma_peak_gflops();
}

}  // namespace ladle_bench
