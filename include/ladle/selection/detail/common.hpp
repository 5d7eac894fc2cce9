// Shared pieces of the selection family: stream purposes and argument checks.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace ladle {
namespace detail {

// Purposes mixed into Philox stream ids, so two selection methods never share random numbers.
enum : std::uint64_t {
  stream_uniform_subset = 0x464c4f5944ull,  // "FLOYD"
  stream_permutation = 0x5045524dull,       // "PERM"
  stream_stratified = 0x5354524154ull,      // "STRAT"
  stream_weighted = 0x4553554bull,          // "ESUK" (Efraimidis-Spirakis keys)
  stream_alias = 0x414c494153ull,           // "ALIAS"
  stream_reservoir = 0x52455356ull,         // "RESV"
  stream_rs2 = 0x525332ull,                 // "RS2"
  stream_k_center = 0x4b43454eull,          // "KCEN"
  stream_dsir = 0x44534952ull,              // "DSIR"
  stream_facility_location = 0x46414355ull, // "FACU" (stochastic greedy samples)
};

/// Checks a count k against a population n: 0 <= k <= n.
inline void require_count(index_t k, index_t n, const char* fn, const char* arg,
                          const char* population) {
  if (k < 0) throw_invalid_argument(fn, arg, "must not be negative, got ", k);
  if (k > n)
    throw_invalid_argument(fn, arg, "is ", k, " but only ", n, " ", population,
                           " are available");
}

/// Weights must be finite and >= 0; returns how many are positive.
template <class W>
index_t check_weights(vector_view<W> w, const char* fn, const char* arg) {
  using value_t = std::remove_const_t<W>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle selection: weights must be float or double");
  require_host(w, fn, arg);
  index_t positive = 0;
  for (index_t i = 0; i < w.extent(0); ++i) {
    const value_t v = w(i);
    if (!(v >= 0) || !std::isfinite(v))
      throw_domain_error(fn, arg, "has ", v, " at index ", i,
                         "; weights must be finite and non-negative");
    positive += v > 0;
  }
  return positive;
}

/// Labels must be int32 or int64.
template <class L>
void check_label_type() {
  using label_t = std::remove_const_t<L>;
  static_assert(std::is_same<label_t, std::int32_t>::value ||
                    std::is_same<label_t, std::int64_t>::value,
                "ladle selection: class labels must be int32 or int64");
}

}  // namespace detail
}  // namespace ladle
