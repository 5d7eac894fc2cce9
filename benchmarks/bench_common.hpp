// Shared by every benchmark program: a memory-bandwidth reference measured in the same binary,
// so family benchmarks can report "fraction of bandwidth" next to their own GB/s.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

namespace ladle_bench {

/// Best-of-N single-thread read+write bandwidth (GB/s) of a copy of `bytes` bytes, the traffic
/// pattern of a streaming kernel that reads its input once and writes its output once
/// (counted as 2 * bytes moved). Measured once per process and cached.
inline double copy_bandwidth_gbs(std::size_t bytes = std::size_t(256) << 20) {
  static const double gbs = [bytes] {
    std::vector<char> a(bytes, 1), b(bytes, 0);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      std::memcpy(b.data(), a.data(), bytes);
      benchmark::DoNotOptimize(b.data());
      benchmark::ClobberMemory();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 2.0 * double(bytes) / s / 1e9);
    }
    return best;
  }();
  return gbs;
}

/// Adds GB/s and fraction-of-bandwidth counters for a kernel that moved `bytes_per_iter`.
inline void report_bandwidth(benchmark::State& state, double bytes_per_iter) {
  const double bytes = bytes_per_iter * double(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["bw_frac"] = benchmark::Counter(
      bytes / 1e9 / copy_bandwidth_gbs(), benchmark::Counter::kIsRate);
}

}  // namespace ladle_bench
