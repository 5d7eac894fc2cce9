// ladle/neighbors/detail/knn_impl.hpp: definitions for ladle/neighbors/knn.hpp.
//
// Once per search: the references, centred on their mean, are packed into kernel panels
// (knn_kernel.hpp) with a_j = (1 - c) |r'_j|^2 beside them; threads share this copy.
// Per query tile (one parallel chunk):
//   1. pack the tile, centred and scaled by -2 (exact), into query groups; qn = |q'|^2;
//   2. for each reference tile (whole panels), for each query group, for each panel of the tile:
//      the register-blocked kernel forms a_j + q''.r'_j, a lower bound of |q_i - r_j|^2 up to
//      per-query terms, and compares it with the query's threshold t_i in registers;
//   3. only a row with a value below t_i is rescanned (scan_row): survivors are recorded in the
//      query's pending-candidate buffer (knn_candidates.hpp), which lowers t_i through an upper
//      bound on the k-th distance; when the buffer fills, and at the end of the query tile, the
//      entries its bounds cannot rule out are re-measured exactly from the caller's data, in
//      index order, and inserted into the query's sorted candidate list.
// References are visited in ascending index order for every query, so a newcomer that ties the
// current k-th value loses (larger index) and the list is the exact top-k of everything
// re-measured, which includes the final top-k. The filter only decides which references get
// re-measured, so tile shapes, the buffer size, the kernel's rounding and the SIMD path cannot
// change the result.
//
// Error bound behind the filter (u = unit roundoff of T, q', r' centred vectors):
//   |approx - exact| <= c * u * (|q'|^2 + |r'|^2) + abs,  c = 6 d + 64,  abs = min normal of T.
// The dot product (d terms summed in T in any order, fused or not) contributes
// gamma_d * |q'||r'| * 2 <= d u (|q'|^2 + |r'|^2), the two squared norms (summed in T) d u each,
// the sum and the threshold a few u, centring (q' = fl(q - mu)) at most 4 u (...), and the exact
// formula itself (for double) another d u; c is about 1.5 times that sum. abs covers gradual
// underflow. Centring keeps |q'|^2 + |r'|^2 on the scale of the data's spread rather than its
// offset, which keeps the filter tight.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"
#include "ladle/neighbors/detail/knn_candidates.hpp"
#include "ladle/neighbors/detail/knn_kernel.hpp"

// GCC 12 reports -Wuninitialized inside its own AVX-512 intrinsics when Eigen's packet
// transposes are inlined here (a known false positive); silence it for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wuninitialized"
#  pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// scan_row inlined with n = NR (a constant) makes GCC 12 warn about its empty scalar tail loop.
#  pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

namespace ladle {
namespace detail {
namespace knn {

/// Exact squared distance, the formula every result is ranked by: a[j] widened to double against
/// b[j * stride] widened to double (both exact): eight partial sums (feature j goes to sum j % 8,
/// features in order, one std::fma each, so no compiler contraction choice can change it),
/// combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)). Eight independent chains hide
/// the fma latency and let the compiler vectorise; std::fma is correctly rounded on every path.
/// (Not xsimd::fma: xsimd 8 emulates it with two roundings on some targets, AVX-512 included;
/// AVX-512 and AVX2 paths use the fused intrinsics, lane l holding sum l.) Reading both rows from
/// the caller's data (a contiguous) spares the search a widened copy of them.
template <class SA, class S>
inline double exact_sq_distance(const SA* LADLE_RESTRICT a, const S* LADLE_RESTRICT b,
                                index_t stride, index_t d) noexcept {
  using A = std::remove_const_t<SA>;
  using U = std::remove_const_t<S>;
  static_assert(std::is_same<U, float>::value || std::is_same<U, double>::value,
                "exact_sq_distance: float or double rows");
  static_assert(std::is_same<A, float>::value || std::is_same<A, double>::value,
                "exact_sq_distance: float or double rows");
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  index_t j = 0;
  if (stride == 1) {
#if LADLE_HAS_SIMD && defined(__AVX512F__)
    // Sum l is lane l: the same eight chains, each step one fused multiply-add (the intrinsic,
    // not xsimd 8's AVX-512 fma, which is a multiply and an add).
    __m512d acc = _mm512_setzero_pd();
    for (; j + 8 <= d; j += 8) {
      __m512d x, y;
      if constexpr (std::is_same<A, float>::value) {
        x = _mm512_cvtps_pd(_mm256_loadu_ps(a + j));
      } else {
        x = _mm512_loadu_pd(a + j);
      }
      if constexpr (std::is_same<U, float>::value) {
        y = _mm512_cvtps_pd(_mm256_loadu_ps(b + j));
      } else {
        y = _mm512_loadu_pd(b + j);
      }
      const __m512d e = _mm512_sub_pd(x, y);
      acc = _mm512_fmadd_pd(e, e, acc);
    }
    _mm512_storeu_pd(s, acc);
#elif LADLE_HAS_SIMD && defined(__AVX2__) && defined(__FMA__)
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (; j + 8 <= d; j += 8) {
      __m256d xlo, xhi, ylo, yhi;
      if constexpr (std::is_same<A, float>::value) {
        xlo = _mm256_cvtps_pd(_mm_loadu_ps(a + j));
        xhi = _mm256_cvtps_pd(_mm_loadu_ps(a + j + 4));
      } else {
        xlo = _mm256_loadu_pd(a + j);
        xhi = _mm256_loadu_pd(a + j + 4);
      }
      if constexpr (std::is_same<U, float>::value) {
        ylo = _mm256_cvtps_pd(_mm_loadu_ps(b + j));
        yhi = _mm256_cvtps_pd(_mm_loadu_ps(b + j + 4));
      } else {
        ylo = _mm256_loadu_pd(b + j);
        yhi = _mm256_loadu_pd(b + j + 4);
      }
      const __m256d elo = _mm256_sub_pd(xlo, ylo);
      const __m256d ehi = _mm256_sub_pd(xhi, yhi);
      lo = _mm256_fmadd_pd(elo, elo, lo);
      hi = _mm256_fmadd_pd(ehi, ehi, hi);
    }
    _mm256_storeu_pd(s, lo);
    _mm256_storeu_pd(s + 4, hi);
#endif
    for (; j + 8 <= d; j += 8)
      for (index_t l = 0; l < 8; ++l) {
        const double e = static_cast<double>(a[j + l]) - static_cast<double>(b[j + l]);
        s[l] = std::fma(e, e, s[l]);
      }
  } else {
    for (; j + 8 <= d; j += 8)
      for (index_t l = 0; l < 8; ++l) {
        const double e = static_cast<double>(a[j + l]) - static_cast<double>(b[(j + l) * stride]);
        s[l] = std::fma(e, e, s[l]);
      }
  }
  for (; j < d; ++j) {
    const double e = static_cast<double>(a[j]) - static_cast<double>(b[j * stride]);
    s[j % 8] = std::fma(e, e, s[j % 8]);
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/// The same on two contiguous rows in double.
inline double exact_sq_distance(const double* LADLE_RESTRICT a, const double* LADLE_RESTRICT b,
                                index_t d) noexcept {
  return exact_sq_distance(a, b, 1, d);
}

/// Index of the lowest set bit (bits != 0).
inline int lowest_bit(std::uint64_t bits) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(bits);
#else
  int i = 0;
  while ((bits & 1u) == 0) {
    bits >>= 1;
    ++i;
  }
  return i;
#endif
}

template <class F, class T>
LADLE_FORCE_INLINE void report_candidate(F& on_candidate, index_t j, T v) {
  if constexpr (std::is_invocable<F&, index_t, T>::value) {
    on_candidate(j, v);
  } else {
    on_candidate(j);
  }
}

/// Calls on_candidate(j) for every j in [0, n) with a[j] + c[j] < t, in ascending j, and leaves
/// c[0, n) zeroed (a scratch row: the kernel's stored dot products). on_candidate may lower t; later j
/// are tested against the new t. UseSimd = false is the scalar reference path; both evaluate the
/// same IEEE sums, so they report the same candidates. A callback taking (j, v) also gets the
/// value v = a[j] + c[j].
template <bool UseSimd, class T, class F>
inline void scan_row(T* LADLE_RESTRICT c, const T* LADLE_RESTRICT a, index_t n, T& t,
                     F&& on_candidate) {
  index_t j = 0;
#if LADLE_HAS_SIMD
  if (UseSimd) {
    using batch = simd::batch<T>;
    constexpr index_t lanes = static_cast<index_t>(simd::lanes<T>);
    const batch zero(T(0));
    for (; j + lanes <= n; j += lanes) {
      const batch v = batch::load_unaligned(a + j) + batch::load_unaligned(c + j);
      zero.store_unaligned(c + j);
      const auto below = v < batch(t);
      if (!xsimd::any(below)) continue;  // the common case; mask_bits is slow on xsimd 8
      alignas(64) T lane[lanes];
      v.store_aligned(lane);
      std::uint64_t bits = simd::mask_bits(below);
      while (bits != 0) {
        const int b = lowest_bit(bits);
        bits &= bits - 1;
        if (lane[b] < t) report_candidate(on_candidate, j + b, lane[b]);  // t may have dropped since the compare
      }
    }
  }
#endif
  for (; j < n; ++j) {
    const T v = a[j] + c[j];
    c[j] = T(0);
    if (v < t) report_candidate(on_candidate, j, v);
  }
}

/// A read hint for the cache line at p (a no-op where the compiler has no prefetch builtin; it
/// never faults). Used on the candidate path in every build, the scalar one included.
inline void prefetch_line(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 3);
#else
  (void)p;
#endif
}

/// Reads one byte of every cache line of the contiguous row p[0, n) (and its last byte), so the
/// lines and their page translations are in place before the row is used. Unlike prefetch_line,
/// these loads cannot be dropped; their values are discarded.
template <class S>
inline void load_lines(const S* p, index_t n) noexcept {
  if (n <= 0) return;
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  const std::ptrdiff_t bytes = std::ptrdiff_t(n) * std::ptrdiff_t(sizeof(S));
  unsigned acc = b[bytes - 1];
  for (std::ptrdiff_t off = 0; off < bytes; off += 64) acc ^= b[off];
#if defined(__GNUC__) || defined(__clang__)
  __asm__ volatile("" : : "r"(acc));
#else
  static volatile unsigned sink;
  sink = acc;
#endif
}

/// std::nextafter(x, +inf) for finite x, without the library call (it sits on the candidate path).
template <class T>
inline T next_up(T x) noexcept {
  if (x == T(0)) return std::numeric_limits<T>::denorm_min();
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  U b;
  std::memcpy(&b, &x, sizeof b);
  b = x > T(0) ? b + 1 : b - 1;
  std::memcpy(&x, &b, sizeof b);
  return x;
}

/// dst[j] = fl(src[j * stride] - mu[j]): a centred row for the filter (one IEEE subtraction per
/// value, the same on every path).
template <class T, class S>
inline void centre_row(const S* LADLE_RESTRICT src, index_t stride, const T* LADLE_RESTRICT mu,
                       T* LADLE_RESTRICT dst, index_t d) noexcept {
  index_t j = 0;
  if (stride == 1) {
#if LADLE_HAS_SIMD
    using batch = simd::batch<T>;
    constexpr index_t lanes = static_cast<index_t>(simd::lanes<T>);
    for (; j + lanes <= d; j += lanes)
      (batch::load_unaligned(src + j) - batch::load_unaligned(mu + j)).store_unaligned(dst + j);
#endif
    for (; j < d; ++j) dst[j] = src[j] - mu[j];
  } else {
    for (; j < d; ++j) dst[j] = src[j * stride] - mu[j];
  }
}

/// |x|^2 in T (Eigen's vectorised reduction; its error is part of the filter's bound).
template <class T>
inline T squared_norm(const T* x, index_t d) noexcept {
  return Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(x, d).squaredNorm();
}

/// Cache sizes the automatic tiles are derived from: per-core floors of current x86-64 and
/// AArch64 server and desktop cores (L1D 32-48 KiB, L2 1-2 MiB). A larger cache only leaves
/// room; explicit knn_options tiles override the choice.
inline constexpr std::size_t assumed_l1_bytes = std::size_t(32) << 10;
inline constexpr std::size_t assumed_l2_bytes = std::size_t(1) << 20;

/// References per kernel panel (NR) for an element size of 4 (float) or 8 (double).
inline index_t panel_rows(std::size_t elem) noexcept {
  return elem == sizeof(float) ? kernel_shape<float>::nr : kernel_shape<double>::nr;
}

/// Tile sizes: an explicit option wins, except that the reference tile is always whole kernel
/// panels (rounded up to NR rows). Auto: the reference tile takes half of L1 (the kernel sweeps it
/// once per query group), at least one panel, at most 1024 rows (whole panels); the packed query tile takes a
/// quarter of L2, 64 to 1024 rows. Never more than the problem.
inline knn_tiles choose_tiles(index_t nq, index_t nr, index_t d, const knn_options& opts,
                              std::size_t elem) {
  const index_t np = panel_rows(elem);
  const std::size_t dd = std::size_t(d > 0 ? d : 1);
  index_t rb = opts.reference_block;
  if (rb <= 0) {
    // (Divided in two steps: elem * d may not fit a size_t for a hostile d.)
    const auto fit = static_cast<index_t>(((assumed_l1_bytes / 2) / elem) / dd);
    rb = std::min<index_t>(1024 / np * np, std::max<index_t>(np, fit / np * np));
  }
  rb = std::max<index_t>(1, std::min(rb, nr));
  if (rb % np != 0 && rb <= std::numeric_limits<index_t>::max() - np) rb += np - rb % np;
  rb = std::max<index_t>(1, std::min(rb, nr));
  index_t qb = opts.query_block;
  if (qb <= 0) {
    const auto fit = static_cast<index_t>(((assumed_l2_bytes / 4) / elem) / dd);
    qb = std::min<index_t>(1024, std::max<index_t>(64, fit / 16 * 16));
  }
  qb = std::max<index_t>(1, std::min(qb, nq));
  return {qb, rb};
}

inline void check_sizes(const char* fn, index_t nq, index_t nr, index_t d, const knn_options& opts) {
  if (nq < 0) throw_invalid_argument(fn, "n_queries", "must be >= 0, got ", nq);
  if (nr < 0) throw_invalid_argument(fn, "n_references", "must be >= 0, got ", nr);
  if (d < 0) throw_invalid_argument(fn, "dim", "must be >= 0, got ", d);
  if (opts.k < 1) throw_invalid_argument(fn, "k", "must be >= 1, got ", opts.k);
  if (opts.query_block < 0)
    throw_invalid_argument(fn, "query_block", "must be >= 0 (0 = auto), got ", opts.query_block);
  if (opts.reference_block < 0)
    throw_invalid_argument(fn, "reference_block", "must be >= 0 (0 = auto), got ",
                           opts.reference_block);
  if (opts.candidate_buffer < 0)
    throw_invalid_argument(fn, "candidate_buffer", "must be >= 0 (0 = auto), got ",
                           opts.candidate_buffer);
}

/// Automatic mode: the buffer is used from this many features up. A recording costs about the
/// same at every d, a re-measure grows with d: measured on Zen 5 (2026-12-02, see
/// benchmarks/compare/results/2026-12-02-knn-candidates.txt), the buffer gained 1.27x at d = 256 and
/// 1.13x at d = 128 but lost 5-10 % at d = 64 (40k points), so below this the search re-measures
/// each passing reference at once, as before.
inline constexpr index_t candidate_buffer_min_dim = 96;

/// Pending-candidate entries per query (knn_candidates.hpp): the option, or when it is 0,
/// 2 k + 16 for d >= candidate_buffer_min_dim and 0 (no buffer: immediate re-measures) below;
/// never more than nr (a query cannot have more distinct pending references).
inline index_t candidate_capacity(index_t k, index_t nr, index_t d, const knn_options& opts,
                                  const char* fn) {
  index_t cap = opts.candidate_buffer;
  if (cap <= 0) {
    if (d < candidate_buffer_min_dim) return 0;
    cap = checked_add(checked_mul(k, index_t(2), fn, "workspace"), default_candidate_slack, fn,
                      "workspace");
  }
  return std::max<index_t>(1, std::min(cap, nr));
}

/// Bytes of one query's candidate block: the buffer header, k upper bounds and cap entries,
/// rounded up to whole 64-byte lines (one tile's blocks are consecutive, one per query row).
template <class T>
index_t candidate_block_bytes(index_t k, index_t cap, const char* fn, const char* arg) {
  index_t raw = checked_mul(k, index_t(sizeof(double)), fn, arg);
  raw = checked_add(raw, checked_mul(cap, index_t(sizeof(pending_entry<T>)), fn, arg), fn, arg);
  raw = checked_add(raw, index_t(sizeof(candidate_buffer<T>)) + 63, fn, arg);
  return raw / 64 * 64;
}

inline std::size_t workspace_bytes(index_t nq, index_t nr, index_t d, const knn_options& opts,
                                   std::size_t elem, const char* fn) {
  const knn_tiles t = choose_tiles(nq, nr, d, opts, elem);
  const index_t qb = t.query_block, rb = t.reference_block, k = opts.k;
  const auto e = static_cast<index_t>(elem), w = static_cast<index_t>(sizeof(double));
  const auto ix = static_cast<index_t>(sizeof(index_t));
  auto mul = [&](index_t a, index_t b) { return checked_mul(a, b, fn, "workspace"); };
  auto add = [&](index_t a, index_t b) { return checked_add(a, b, fn, "workspace"); };
  (void)rb;
  const index_t mr = elem == sizeof(float) ? kernel_shape<float>::mr : kernel_shape<double>::mr;
  const index_t qpad = add(qb, mr);                  // query rows rounded up to whole groups
  index_t bytes = 0;
  bytes = add(bytes, mul(mul(qpad, d), e));          // packed query tile
  bytes = add(bytes, mul(mul(qb, d), w));            // verbatim queries in double (re-measure)
  bytes = add(bytes, mul(d, e));                     // one centred row
  bytes = add(bytes, mul(panel_rows(elem), e));      // a row of kernel values to rescan
  bytes = add(bytes, mul(qb, w));                    // query norms
  bytes = add(bytes, mul(qpad, e));                  // thresholds
  bytes = add(bytes, mul(mul(qb, k), e + ix));       // candidate lists
  bytes = add(bytes, mul(qb, 2 * index_t(sizeof(void*)) + 2 * ix));  // their headers
  const index_t cap = candidate_capacity(k, nr, d, opts, fn);
  if (cap > 0) {
    const index_t block = elem == sizeof(float)
                              ? candidate_block_bytes<float>(k, cap, fn, "workspace")
                              : candidate_block_bytes<double>(k, cap, fn, "workspace");
    bytes = add(bytes, mul(qb, block));              // pending candidates, bounds, headers
  }
  bytes = add(bytes, 13 * index_t(buffer_alignment));  // alignment padding of the buffers
  return static_cast<std::size_t>(bytes);
}

/// Names a kNN search reports its errors under: the public function, the caller's argument names
/// and, when the points are a subset of the caller's rows (resampling's per-class searches), the
/// caller's row of each local row.
struct context {
  const char* fn;
  const char* queries;
  const char* references;
  const index_t* query_rows = nullptr;      // caller row of local query row i, or null
  const index_t* reference_rows = nullptr;  // caller row of local reference row i, or null
};

inline index_t caller_row(const index_t* map, index_t i) noexcept { return map ? map[i] : i; }

/// Runs the blocked search. self: queries are the references and i never lists i.
template <class Policy, class T, class TQ, class TR, class TI, class TD>
void run(const Policy& policy, const context& cx, matrix_view<TQ> Q, matrix_view<TR> R, bool self,
         matrix_view<TI> I, matrix_view<TD> D, const knn_options& opts) {
  const char* fn = cx.fn;
  const index_t nq = Q.extent(0), nr = R.extent(0), d = R.extent(1), k = opts.k;
  if (nq == 0) return;
  const knn_tiles tiles = choose_tiles(nq, nr, d, opts, sizeof(T));
  const index_t rb = tiles.reference_block;
  const index_t cap = candidate_capacity(k, nr, d, opts, fn);  // 0: no buffer
  index_t qb = tiles.query_block;
  // With several threads and few queries, smaller automatic query tiles keep every thread busy.
  // (Results never depend on tiling, so this cannot change them.)
  const index_t threads = static_cast<index_t>(policy.threads());
  if (opts.query_block == 0 && threads > 1)
    qb = std::max<index_t>(std::min<index_t>(64, qb), std::min(qb, (nq + 2 * threads - 1) / (2 * threads)));

  // Pass 1: every value finite.
  const index_t grain = 2048;
  const index_t qs0 = Q.stride(0), qs1 = Q.stride(1), rs0 = R.stride(0), rs1 = R.stride(1);
  const TQ* qdata = Q.data();
  const TR* rdata = R.data();
  auto check_finite = [&](const auto* data, index_t s0, index_t s1, index_t n, const char* arg,
                          const index_t* rows) {
    parallel_for(policy, n, grain, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i)
        for (index_t j = 0; j < d; ++j) {
          const auto x = data[i * s0 + j * s1];
          if (!std::isfinite(x))
            throw_domain_error(fn, arg, "has ", x, " at row ", caller_row(rows, i), ", column ",
                               j, "; kNN needs finite values");
        }
    });
  };
  check_finite(rdata, rs0, rs1, nr, cx.references, cx.reference_rows);
  if (!self) check_finite(qdata, qs0, qs1, nq, cx.queries, cx.query_rows);

  // The mean, on this thread (one pass, O(d) memory; it only steers the filter, never the result).
  std::vector<double> sum = make_buffer<double>(d, fn, "dim");
  for (index_t i = 0; i < nr; ++i)
    for (index_t j = 0; j < d; ++j) sum[std::size_t(j)] += double(rdata[i * rs0 + j * rs1]);
  std::vector<T> mu = make_buffer<T>(d, fn, "dim");
  for (index_t j = 0; j < d; ++j) mu[std::size_t(j)] = static_cast<T>(sum[std::size_t(j)] / double(nr));

  // Pass 2: centred squared norms must stay far from overflow in T (the kernel works in T).
  const double norm_limit = double(std::numeric_limits<T>::max()) / 64.0;
  auto check_norms = [&](const auto* data, index_t s0, index_t s1, index_t n, const char* arg,
                         const index_t* rows) {
    parallel_for(policy, n, grain, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) {
        double s = 0.0;
        for (index_t j = 0; j < d; ++j) {
          const double x = double(static_cast<T>(data[i * s0 + j * s1] - mu[std::size_t(j)]));
          s += mul_rounded(x, x);
        }
        if (!(s <= norm_limit))
          throw_domain_error(fn, arg, "row ", caller_row(rows, i), " lies too far from the others: squared "
                             "distances would overflow the element type");
      }
    });
  };
  check_norms(rdata, rs0, rs1, nr, cx.references, cx.reference_rows);
  if (!self) check_norms(qdata, qs0, qs1, nq, cx.queries, cx.query_rows);

  const double u = double(std::numeric_limits<T>::epsilon()) / 2.0;
  const double cu = (mul_rounded(6.0, double(d)) + 64.0) * u;
  const double slack = double(std::numeric_limits<T>::min());
  const T inf = std::numeric_limits<T>::infinity();

  // Threshold on a_j + C_ij for a query whose k-th value is kth (rounded up to T: conservative).
  // (kth: an upper bound on the k-th exact distance of the visited references, see
  // knn_candidates.hpp; it is >= 0 whenever finite.)
  auto threshold = [&](double kth, double qn) -> T {
    if (kth == double(inf)) return inf;
    if (kth <= 0.0) return -inf;  // nothing can beat a distance of 0 with a larger index
    const double td = kth - mul_rounded(1.0 - cu, qn) + slack;
    T t = static_cast<T>(td);
    if (double(t) < td) t = next_up(t);
    return t;
  };

  const index_t ti0 = I.stride(0), ti1 = I.stride(1), td0 = D.stride(0), td1 = D.stride(1);
  TI* idata = I.data();
  TD* ddata = D.data();

  // The references, centred and packed into kernel panels once, shared by every query tile.
  using shape = kernel_shape<T>;
  constexpr index_t MR = shape::mr, NR = shape::nr;
  const index_t panels = nr / NR + (nr % NR != 0);
  const index_t padded = checked_mul(panels, NR, fn, "references");
  auto rpack = allocate_aligned<T>(checked_mul(padded, d, fn, "references"), fn, "references");
  auto apack = allocate_aligned<T>(padded, fn, "references");
  auto cunorm = allocate_aligned<double>(nr, fn, "references");  // cu |r'_j|^2, for upper bounds
  parallel_for(policy, panels, std::max<index_t>(1, 65536 / (NR * d + 1)), [&](index_t p0, index_t p1) {
    std::vector<T> row = make_buffer<T>(d, fn, "dim");
    for (index_t p = p0; p < p1; ++p) {
      T* dst = rpack.get() + p * NR * d;
      for (index_t l = 0; l < NR; ++l) {
        const index_t j = p * NR + l;
        if (j < nr) {
          centre_row<T>(rdata + j * rs0, rs1, mu.data(), row.data(), d);
          const double rn = double(squared_norm(row.data(), d));
          apack.get()[j] = static_cast<T>((1.0 - cu) * rn);
          cunorm.get()[j] = mul_rounded(cu, rn);
          for (index_t f = 0; f < d; ++f) dst[f * NR + l] = row[std::size_t(f)];
        } else {
          apack.get()[j] = inf;  // a padding column never passes
          for (index_t f = 0; f < d; ++f) dst[f * NR + l] = T(0);
        }
      }
    }
  });
  const index_t tile_panels = std::max<index_t>(1, rb / NR + (rb % NR != 0));

  parallel_for(policy, nq, qb, [&](index_t q0, index_t q1) {
    const index_t m = q1 - q0;
    const index_t groups = m / MR + (m % MR != 0);
    auto qpack = allocate_aligned<T>(checked_mul(groups * MR, d, fn, "queries"), fn, "queries");
    // The queries verbatim in double for the exact re-measure, when the caller's rows are
    // strided; contiguous rows are read in place (half the bytes of a widened copy).
    const bool qcopy = qs1 != 1;
    auto qraw = allocate_aligned<double>(qcopy ? checked_mul(m, d, fn, "queries") : 0, fn, "queries");
    std::vector<T> row = make_buffer<T>(d, fn, "dim");
    auto lane = allocate_aligned<T>(NR, fn, "references");
    auto qn = allocate_aligned<double>(m, fn, "query_block");
    auto th = allocate_aligned<T>(groups * MR, fn, "query_block");
    auto vals = allocate_aligned<T>(m * k, fn, "k");
    auto ids = allocate_aligned<index_t>(m * k, fn, "k");
    // One block per query row: buffer header, upper bounds, entries (knn_candidates.hpp).
    const index_t block = cap > 0 ? candidate_block_bytes<T>(k, cap, fn, "candidate_buffer") : 0;
    auto arena = allocate_aligned<double>(
        checked_mul(m, block / index_t(sizeof(double)), fn, "candidate_buffer"), fn,
        "candidate_buffer");
    auto pending = [&](index_t i) -> candidate_buffer<T>& {
      return *std::launder(reinterpret_cast<candidate_buffer<T>*>(
          reinterpret_cast<unsigned char*>(arena.get()) + i * block));
    };
    std::vector<candidate_list<T>> lists(static_cast<std::size_t>(m));

    for (index_t i = 0; i < groups * MR; ++i) {
      T* gp = qpack.get() + (i / MR) * MR * d + i % MR;
      th.get()[i] = inf;
      if (i >= m) {  // padding row of the last group: zeros, never screened
        for (index_t f = 0; f < d; ++f) gp[f * MR] = T(0);
        continue;
      }
      const TQ* src = qdata + (q0 + i) * qs0;
      centre_row<T>(src, qs1, mu.data(), row.data(), d);
      qn.get()[i] = double(squared_norm(row.data(), d));
      for (index_t f = 0; f < d; ++f) {
        gp[f * MR] = row[std::size_t(f)] * T(-2);  // exact
        if (qcopy) qraw.get()[i * d + f] = static_cast<double>(src[f * qs1]);
      }
      lists[std::size_t(i)] = candidate_list<T>{vals.get() + i * k, ids.get() + i * k, 0, k};
      if (cap == 0) continue;
      const double qni = qn.get()[i];
      unsigned char* blk = reinterpret_cast<unsigned char*>(arena.get()) + i * block;
      double* ub = reinterpret_cast<double*>(blk + sizeof(candidate_buffer<T>));
      auto* entries = reinterpret_cast<pending_entry<T>*>(ub + k);
      new (blk) candidate_buffer<T>{entries, 0, cap, ub, 0, k, mul_rounded(1.0 - cu, qni) - slack,
                                    mul_rounded(cu, qni) + slack, qni};
    }

    // The exact distance of query row i to reference j, in T (the formula of knn.hpp).
    auto measure = [&](index_t i) {
      return [&, i](index_t j) {
        if (qcopy)
          return static_cast<T>(exact_sq_distance(qraw.get() + i * d, rdata + j * rs0, rs1, d));
        return static_cast<T>(exact_sq_distance(qdata + (q0 + i) * qs0, rdata + j * rs0, rs1, d));
      };
    };

    // Prefetch hint for reference row j before its re-measure (contiguous rows only).
    auto touch = [&](index_t j) {
      if (rs1 != 1) return;
      const char* row0 = reinterpret_cast<const char*>(rdata + j * rs0);
      for (std::ptrdiff_t off = 0; off < std::ptrdiff_t(d) * std::ptrdiff_t(sizeof(TR)); off += 64)
        prefetch_line(row0 + off);
    };

    for (index_t p0 = 0; p0 < panels; p0 += tile_panels) {
      const index_t p1 = std::min(panels, p0 + tile_panels);
      for (index_t g = 0; g < groups; ++g) {
        const T* qg = qpack.get() + g * MR * d;
        T* tg = th.get() + g * MR;
        const index_t rows = std::min(MR, m - g * MR);
        // The group's candidate blocks (header, bounds, first entries) will be needed at once if
        // a row has a survivor; with 1024-row tiles they have usually left L1 (a hint only).
        for (index_t r = 0; r < rows && cap > 0; ++r) {
          const unsigned char* blk = reinterpret_cast<unsigned char*>(arena.get()) + (g * MR + r) * block;
          prefetch_line(blk);
          prefetch_line(blk + 64);
        }
        for (index_t p = p0; p < p1; ++p) {
          const T* ap = apack.get() + p * NR;
          filter_panel<T>(qg, rpack.get() + p * NR * d, ap, d, tg, rows, lane.get(), [&](index_t r) {
            const index_t i = g * MR + r, gi = q0 + i;
            T& t = tg[r];  // -inf once the query is settled
            if (cap == 0) {  // no buffer: re-measure at once, lower t to the exact k-th value
              candidate_list<T>& list = lists[std::size_t(i)];
              scan_row<true>(lane.get(), ap, NR, t, [&](index_t l) {
                const index_t gj = p * NR + l;
                if (self && gj == gi) return;
                if (list.offer(measure(i)(gj), gj) && list.full())
                  t = threshold(double(list.values[k - 1]), qn.get()[i]);
              });
              return;
            }
            candidate_buffer<T>& buf = pending(i);
            scan_row<true>(lane.get(), ap, NR, t, [&](index_t l, T f) {
              const index_t gj = p * NR + l;
              if (self && gj == gi) return;
              bool lowered = buf.record(f, gj, cunorm.get()[gj]);
              if (buf.full()) {
                buf.compact(lists[std::size_t(i)], measure(i), touch);
                lowered = true;  // a flush restarts the bound from the exact list
              }
              if (lowered) t = threshold(buf.bound(), buf.qn);
            });
          });
        }
      }
    }

    // End of the tile: every query's surviving entries are re-measured, from rows scattered over
    // the caller's data (and the query's widened copy, long evicted by the sweep): memory-bound.
    // So the rows of query i + lookahead are loaded while query i is measured, after pruning (only
    // the entries the bounds keep). Real loads: prefetch hints here gained nothing measurable, the
    // loads cut the phase by about a quarter (20k x 256, k = 10, 2026-12-02).
    constexpr index_t lookahead = 2;
    auto request = [&](index_t i) {
      candidate_buffer<T>& buf = pending(i);
      buf.prune();
      if (rs1 == 1)
        for (index_t r = 0; r < buf.count; ++r) load_lines(rdata + buf.e[r].id * rs0, d);
      if (qcopy) {
        load_lines(qraw.get() + i * d, d);
      } else {
        load_lines(qdata + (q0 + i) * qs0, d);
      }
    };
    for (index_t i = 0; i < std::min(m, lookahead) && cap > 0; ++i) request(i);
    for (index_t i = 0; i < m; ++i) {
      if (cap > 0) {
        if (i + lookahead < m) request(i + lookahead);
        pending(i).flush(lists[std::size_t(i)], measure(i), [](index_t) {});
      }
      const candidate_list<T>& list = lists[std::size_t(i)];
      LADLE_ASSERT(list.full(), "knn: a query ended with fewer than k candidates");
      for (index_t c = 0; c < k; ++c) {
        idata[(q0 + i) * ti0 + c * ti1] = static_cast<TI>(list.ids[c]);
        ddata[(q0 + i) * td0 + c * td1] = static_cast<TD>(list.values[c]);
      }
    }
  });
}

/// Checks everything that does not involve the outputs: run before anything is allocated.
template <class TQ, class TR>
void check_inputs(const context& cx, matrix_view<TQ> Q, matrix_view<TR> R, bool self,
                  const knn_options& opts) {
  using T = std::remove_const_t<TQ>;
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "ladle::knn: points must be float or double");
  static_assert(std::is_same<T, std::remove_const_t<TR>>::value,
                "ladle::knn: queries and references must have the same element type");
  const char* fn = cx.fn;
  require_host(Q, fn, cx.queries);
  require_host(R, fn, cx.references);
  check_sizes(fn, Q.extent(0), R.extent(0), R.extent(1), opts);
  if (R.extent(1) == 0)
    throw_invalid_argument(fn, cx.references, "has no features (shape ", R.extent(0), " x 0)");
  if (!self && Q.extent(1) != R.extent(1))
    throw_invalid_argument(fn, cx.queries, "have ", Q.extent(1), " features but '", cx.references,
                           "' have ", R.extent(1));
  const index_t nr = R.extent(0);
  if (self) {
    if (opts.k > nr - 1)
      throw_invalid_argument(fn, "k", "must be <= n - 1 = ", nr - 1,
                             " for a self query (a row is not its own neighbour), got ", opts.k);
  } else if (opts.k > nr) {
    throw_invalid_argument(fn, "k", "must be <= the number of references ", nr, ", got ", opts.k);
  }
}

template <class TQ, class TR, class TI, class TD>
void check_outputs(const context& cx, matrix_view<TQ> Q, matrix_view<TR> R, matrix_view<TI> I,
                   matrix_view<TD> D, const knn_options& opts) {
  static_assert(std::is_integral<TI>::value && !std::is_const<TI>::value,
                "ladle::knn: indices must be a mutable integer view");
  static_assert(std::is_floating_point<TD>::value && !std::is_const<TD>::value,
                "ladle::knn: sq_distances must be a mutable float or double view");
  const char* fn = cx.fn;
  require_host(I, fn, "indices");
  require_host(D, fn, "sq_distances");
  const index_t nr = R.extent(0);
  if (nr - 1 > static_cast<index_t>(std::numeric_limits<TI>::max()))
    throw_invalid_argument(fn, "indices", "element type cannot hold reference index ", nr - 1);
  require_extent(I.extent(0), Q.extent(0), fn, "indices", "rows");
  require_extent(I.extent(1), opts.k, fn, "indices", "columns (k)");
  require_extent(D.extent(0), Q.extent(0), fn, "sq_distances", "rows");
  require_extent(D.extent(1), opts.k, fn, "sq_distances", "columns (k)");
  require_disjoint(I, "indices", Q, cx.queries, fn);
  require_disjoint(I, "indices", R, cx.references, fn);
  require_disjoint(D, "sq_distances", Q, cx.queries, fn);
  require_disjoint(D, "sq_distances", R, cx.references, fn);
  require_disjoint(I, "indices", D, "sq_distances", fn);
}

/// The whole search under the caller's names (the entry point resampling uses, so its errors
/// name smote, 'X' and the caller's rows rather than knn_self).
template <class Policy, class TQ, class TR, class TI, class TD>
void search(const Policy& policy, const context& cx, matrix_view<TQ> Q, matrix_view<TR> R,
            bool self, matrix_view<TI> I, matrix_view<TD> D, const knn_options& opts) {
  check_inputs(cx, Q, R, self, opts);
  check_outputs(cx, Q, R, I, D, opts);
  run<Policy, std::remove_const_t<TQ>>(policy, cx, Q, R, self, I, D, opts);
}

/// An owning result, its size validated (k against the data) before anything is allocated.
template <class Policy, class TQ, class TR>
knn_result<std::remove_const_t<TQ>> search_owning(const Policy& policy, const context& cx,
                                                  matrix_view<TQ> Q, matrix_view<TR> R, bool self,
                                                  const knn_options& opts) {
  using T = std::remove_const_t<TQ>;
  check_inputs(cx, Q, R, self, opts);
  const std::array<index_t, 2> shape = {Q.extent(0), opts.k};
  knn_result<T> out{tensor<index_t, 2>(shape, uninitialized, cx.fn, "k"),
                    tensor<T, 2>(shape, uninitialized, cx.fn, "k")};
  check_outputs(cx, Q, R, out.indices.view(), out.sq_distances.view(), opts);
  run<Policy, T>(policy, cx, Q, R, self, out.indices.view(), out.sq_distances.view(), opts);
  return out;
}

}  // namespace knn
}  // namespace detail

template <class Policy, class TQ, class TR, class TI, class TD, class>
void knn_into(const Policy& policy, matrix_view<TQ> queries, matrix_view<TR> references,
              matrix_view<TI> indices, matrix_view<TD> sq_distances, const knn_options& opts) {
  detail::knn::search(policy, {"knn", "queries", "references"}, queries, references, false,
                      indices, sq_distances, opts);
}

template <class TQ, class TR, class TI, class TD>
void knn_into(matrix_view<TQ> queries, matrix_view<TR> references, matrix_view<TI> indices,
              matrix_view<TD> sq_distances, const knn_options& opts) {
  knn_into(seq, queries, references, indices, sq_distances, opts);
}

template <class Policy, class TX, class TI, class TD, class>
void knn_self_into(const Policy& policy, matrix_view<TX> points, matrix_view<TI> indices,
                   matrix_view<TD> sq_distances, const knn_options& opts) {
  detail::knn::search(policy, {"knn_self", "points", "points"}, points, points, true, indices,
                      sq_distances, opts);
}

template <class TX, class TI, class TD>
void knn_self_into(matrix_view<TX> points, matrix_view<TI> indices, matrix_view<TD> sq_distances,
                   const knn_options& opts) {
  knn_self_into(seq, points, indices, sq_distances, opts);
}

template <class Policy, class TQ, class TR, class>
knn_result<std::remove_const_t<TQ>> knn(const Policy& policy, matrix_view<TQ> queries,
                                        matrix_view<TR> references, const knn_options& opts) {
  return detail::knn::search_owning(policy, {"knn", "queries", "references"}, queries, references,
                                    false, opts);
}

template <class TQ, class TR>
knn_result<std::remove_const_t<TQ>> knn(matrix_view<TQ> queries, matrix_view<TR> references,
                                        const knn_options& opts) {
  return knn(seq, queries, references, opts);
}

template <class Policy, class TX, class>
knn_result<std::remove_const_t<TX>> knn_self(const Policy& policy, matrix_view<TX> points,
                                             const knn_options& opts) {
  return detail::knn::search_owning(policy, {"knn_self", "points", "points"}, points, points, true,
                                    opts);
}

template <class TX>
knn_result<std::remove_const_t<TX>> knn_self(matrix_view<TX> points, const knn_options& opts) {
  return knn_self(seq, points, opts);
}

inline knn_tiles knn_tile_sizes(index_t n_queries, index_t n_references, index_t dim,
                                const knn_options& opts, std::size_t elem_size) {
  detail::knn::check_sizes("knn_tile_sizes", n_queries, n_references, dim, opts);
  if (elem_size != 4 && elem_size != 8)
    throw_invalid_argument("knn_tile_sizes", "elem_size", "must be 4 or 8, got ", elem_size);
  return detail::knn::choose_tiles(n_queries, n_references, dim, opts, elem_size);
}

inline std::size_t knn_workspace_bytes(index_t n_queries, index_t n_references, index_t dim,
                                       const knn_options& opts, std::size_t elem_size) {
  detail::knn::check_sizes("knn_workspace_bytes", n_queries, n_references, dim, opts);
  if (elem_size != 4 && elem_size != 8)
    throw_invalid_argument("knn_workspace_bytes", "elem_size", "must be 4 or 8, got ", elem_size);
  return detail::knn::workspace_bytes(n_queries, n_references, dim, opts, elem_size,
                                      "knn_workspace_bytes");
}

}  // namespace ladle

#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic pop
#endif
