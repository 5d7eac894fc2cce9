// core_tour: the core ideas of docs/design.md, one function each (the document's snippets are
// copied from here): views and strides, device tags, errors, Philox streams, parallel policies
// and a host backend, memory, the SIMD seam, and dtype rounding.
#include <ladle/ladle.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

static bool views_and_strides() {
  // Six floats holding a 3 x 2 matrix in column-major order (as Fortran, Eigen or a transposed
  // PyTorch tensor would): element (i, j) lives at i * 1 + j * 3.
  float buf[6] = {1, 2, 3, 4, 5, 6};
  auto m = ladle::make_view(buf, {3, 2}, {1, 3});
  // The same memory read row-major is the 2 x 3 transpose.
  auto t = ladle::make_view(buf, {2, 3});
  std::printf("m(2, 1) = %g, t(1, 2) = %g, m contiguous: %d, t contiguous: %d\n", m(2, 1),
              t(1, 2), m.is_contiguous(), t.is_contiguous());
  // Rows 1..2 of m, and row 0 of m as a strided vector (step 3).
  auto lower = m.slice(1, 3);
  auto first_row = m.row(0);
  std::printf("lower(0, 0) = %g, first_row(1) = %g (stride %td)\n", lower(0, 0), first_row(1),
              first_row.stride(0));
  return m(2, 1) == 6 && t(1, 2) == 6 && lower(0, 0) == 2 && first_row(1) == 4;
}

static bool device_tags() {
  // A view says where its memory lives. CPU routines refuse device memory instead of reading it.
  float host_copy[4] = {0, 1, 2, 3};
  float out[4];
  auto on_gpu = ladle::make_view(host_copy, 4, ladle::device::cuda(0));
  try {
    ladle::convert(on_gpu, ladle::make_view(out, 4));
  } catch (const ladle::invalid_argument& e) {
    std::printf("%s\n", e.what());
    return true;
  }
  return false;
}

static bool errors() {
  float logits[3] = {1, 2, 3};
  float probs[2];
  try {
    ladle::softmax(ladle::make_view(logits, 3), ladle::make_view(probs, 2));
  } catch (const std::invalid_argument& e) {  // or ladle::error, or ladle::invalid_argument
    const auto& err = dynamic_cast<const ladle::error&>(e);
    std::printf("%s\n  function: %s, argument: %s\n", e.what(), err.function().c_str(),
                err.argument().c_str());
    return err.argument() == "out";
  }
  return false;
}

static bool philox_streams() {
  const ladle::seed seed{2026};
  // One stream per (purpose, item): stream ids are a hash of the tuple, so they need no registry.
  ladle::philox a(seed, ladle::derive_stream(/*class=*/3, /*row=*/17));
  ladle::philox b(seed, ladle::derive_stream(/*class=*/3, /*row=*/17));
  const bool same = ladle::uniform_u32(a, 100) == ladle::uniform_u32(b, 100);
  // Position p of a stream is reachable in O(1): a generator started at block 1000 continues
  // exactly where one that skipped 1000 blocks does.
  ladle::philox skipped(seed, 5);
  skipped.discard_blocks(1000);
  ladle::philox started(seed, 5, /*position=*/1000);
  const bool jump = skipped() == started();
  // fork(id) gives an independent child stream, e.g. one per epoch.
  ladle::philox epoch = a.fork(/*epoch=*/1);
  std::printf("same stream, same draw: %d; jump ahead: %d; forked draw: %.6f\n", same, jump,
              ladle::uniform_double(epoch));
  return same && jump;
}

static bool parallel_policies() {
  std::vector<double> x(100000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0 / static_cast<double>(i + 1);
  auto sum = [&](const auto& policy) {
    return ladle::parallel_reduce(
        policy, static_cast<ladle::index_t>(x.size()), /*grain=*/4096, 0.0,
        [&](ladle::index_t begin, ladle::index_t end) {
          double s = 0;
          for (ladle::index_t i = begin; i < end; ++i) s += x[static_cast<std::size_t>(i)];
          return s;
        },
        [](double acc, double part) { return acc + part; });
  };
  const double s1 = sum(ladle::seq), s4 = sum(ladle::par(4));

  // Route ladle's parallel work to the host application's own pool. This stand-in runs the tasks
  // in order on the calling thread; a real one would hand them to its workers.
  std::atomic<int> jobs{0};
  ladle::set_parallel_for(
      [&](ladle::index_t tasks, const std::function<void(ladle::index_t)>& task, int threads) {
        ++jobs;
        (void)threads;  // at most this many workers should run tasks concurrently
        for (ladle::index_t t = 0; t < tasks; ++t) task(t);
      });
  const double s_host = sum(ladle::par);
  ladle::set_parallel_for({});  // back to ladle's internal pool

  std::printf("harmonic sum: seq %.17g, par(4) %.17g, host pool %.17g (%d job)\n", s1, s4,
              s_host, jobs.load());
  return s1 == s4 && s1 == s_host;
}

static bool memory() {
  // Owning storage: 64-byte aligned, zero-filled; .view() lends it to any routine.
  ladle::tensor<float, 2> scores({2, 3});
  scores(0, 1) = 2.0f;
  scores(1, 2) = -1.0f;
  // Results go into memory the caller passes; out may alias the input (here: in place).
  for (ladle::index_t r = 0; r < scores.extent(0); ++r)
    ladle::softmax(scores.view().row(r), scores.view().row(r));
  std::printf("row 0 after softmax: %.4f %.4f %.4f\n", scores(0, 0), scores(0, 1), scores(0, 2));
  return std::abs(scores(0, 0) + scores(0, 1) + scores(0, 2) - 1.0f) < 1e-6f;
}

static bool simd_seam() {
  std::printf("SIMD kernels compiled for: %s\n", ladle::simd::arch_name());
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 1e3f;
  std::vector<ladle::bfloat16> fast(x.size()), reference(x.size());
  const auto n = static_cast<ladle::index_t>(x.size());
  ladle::convert_n(x.data(), fast.data(), n);              // SIMD path (unless disabled)
  ladle::convert_n_scalar(x.data(), reference.data(), n);  // scalar reference path
  const bool identical = std::memcmp(fast.data(), reference.data(), x.size() * 2) == 0;
  std::printf("SIMD and scalar bfloat16 conversions identical: %d\n", identical);
  return identical;
}

static bool dtype_rounding() {
  // 1 + 2^-8 lies halfway between the bfloat16 neighbours 1 and 1 + 2^-7: ties go to the even
  // mantissa, 1. 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up.
  const float down = ladle::to_float(ladle::from_float<ladle::bfloat16>(1.00390625f));
  const float up = ladle::to_float(ladle::from_float<ladle::bfloat16>(1.01171875f));
  // binary16 tops out at 65504; 65520 is halfway to the next step, which is infinity.
  const float big = ladle::to_float(ladle::from_float<ladle::half>(65520.0f));
  std::printf("bf16(1+2^-8) = %.8g, bf16(1+3*2^-8) = %.8g, half(65520) = %g\n", down, up, big);
  return down == 1.0f && up == 1.015625f && std::isinf(big);
}

int main() {
  std::printf("ladle %s\n", LADLE_VERSION_STRING);
  const bool ok = views_and_strides() & device_tags() & errors() & philox_streams() &
                  parallel_policies() & memory() & simd_seam() & dtype_rounding();
  std::printf("%s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
  return ok ? 0 : 1;
}
