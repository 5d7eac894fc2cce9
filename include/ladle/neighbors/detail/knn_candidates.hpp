// ladle/neighbors/detail/knn_candidates.hpp: a query's exact top-k list and its buffer of
// references that passed the filter but have not been re-measured yet.
//
// Why a buffer. Scanning references in index order, a query's k-th distance keeps improving, and
// every reference that beats the current bound passes the filter: about k ln(nr / k) of them per
// query, most of which a later reference pushes out again. Re-measuring each one exactly (a d-term
// double chain on a random row of the caller's data) cost more than the filter itself at d = 256.
// So a passing reference is only *recorded*, with its filter value; the exact re-measure waits
// until the buffer is full or the scan is over, by which time most entries are provably out.
//
// Bounds (filter value f_j in T, exact distance e_j, margin m_j = cu (|q'|^2 + |r'_j|^2) + abs, see
// knn_impl.hpp):  L_j = f_j + (1 - cu) |q'|^2 - abs <= e_j <= U_j = L_j + 3 m_j.  (U needs
// L + 2 m_j; the extra m_j absorbs the few double roundings made forming L and U.)
// The bound B = the k-th smallest of { exact values in the top-k list } and { U_j of buffered
// entries } is at least the k-th smallest exact distance among the references visited so far,
// because each visited reference contributes at most one value and that value is >= its exact
// distance. (An entry's U stays in the multiset after the entry is dropped: still one value per
// reference. After a flush the multiset restarts from the exact list alone, so a re-measured
// entry is never counted twice.) Hence:
//  * the filter may skip reference j when L_j >= B (j's index exceeds every visited one, so a tie
//    with the k-th distance loses);
//  * a buffered entry may be dropped when L_j > B: strictly worse than the final k-th distance;
//  * at a flush, entries are re-measured and offered in ascending index order (the order they
//    were recorded in), so the exact list is the exact top-k of every reference re-measured so
//    far, ties to the lower index, and every member of the final top-k is among them.
// The filter value itself never reaches the result, so tiling and the SIMD path cannot change it.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/fp_contract.hpp"

#include <algorithm>
#include <limits>

namespace ladle {
namespace detail {
namespace knn {

/// A query's running top-k: values ascending, ties in ascending index (newcomers always carry the
/// largest index seen so far, so they go after equal values).
template <class T>
struct candidate_list {
  T* values;
  index_t* ids;
  index_t count;
  index_t k;

  bool full() const noexcept { return count == k; }
  /// Inserts (v, id) if it belongs to the top-k; id must exceed every id already listed.
  bool offer(T v, index_t id) noexcept {
    if (count == k && !(v < values[k - 1])) return false;
    index_t pos = std::upper_bound(values, values + count, v) - values;
    const index_t last = count < k ? count : k - 1;  // slot freed (or the new one)
    for (index_t p = last; p > pos; --p) {
      values[p] = values[p - 1];
      ids[p] = ids[p - 1];
    }
    values[pos] = v;
    ids[pos] = id;
    if (count < k) ++count;
    return true;
  }
};

/// Default buffer capacity (entries per query) for k neighbours, before overflow checks: room for
/// the k entries a compaction typically keeps plus as many again and a few more, so compactions
/// are rare (every ~k + 16 passing references) and each costs O(capacity).
inline constexpr index_t default_candidate_slack = 16;

/// A reference waiting for its re-measure: its filter value and index (one cache line holds
/// several, so recording one touches one line).
template <class T>
struct pending_entry {
  T fv;
  index_t id;
};

/// The pending entries of one query and the bound B (file comment). The search keeps this header,
/// ub and the entries of one query in one contiguous block (query_block_bytes), so a record
/// touches two or three adjacent cache lines.
template <class T>
struct candidate_buffer {
  pending_entry<T>* e;  ///< pending entries, in recording (= ascending index) order
  index_t count;   ///< pending entries
  index_t cap;     ///< capacity (>= 1)
  double* ub;      ///< the k smallest values of B's multiset, ascending
  index_t ub_count;
  index_t k;
  double base;     ///< (1 - cu) |q'|^2 - abs: L = f + base
  double margin_q; ///< cu |q'|^2 + abs: m_j = margin_q + cu |r'_j|^2
  double qn;       ///< |q'|^2 (the caller's threshold needs it; kept here for locality)

  double lower(T f) const noexcept { return double(f) + base; }
  double bound() const noexcept {
    return ub_count == k ? ub[k - 1] : std::numeric_limits<double>::infinity();
  }

  /// Adds an upper bound to B's multiset; true when B dropped.
  bool add_upper(double u) noexcept {
    if (ub_count == k && !(u < ub[k - 1])) return false;
    // Insertion from the back (k is small; one loop exit to predict rather than a binary search).
    index_t p = ub_count < k ? ub_count++ : k - 1;
    for (; p > 0 && u < ub[p - 1]; --p) ub[p] = ub[p - 1];
    ub[p] = u;
    return ub_count == k;
  }

  /// Records a reference that passed the filter: f its filter value, cu_r = cu |r'_id|^2.
  /// Returns true when B dropped. The caller compacts when full() afterwards.
  bool record(T f, index_t id, double cu_r) noexcept {
    e[count] = pending_entry<T>{f, id};
    ++count;
    const double l = lower(f);
    return add_upper(l + mul_rounded(3.0, margin_q + cu_r));
  }

  bool full() const noexcept { return count >= cap; }

  /// Drops the entries whose lower bound exceeds B (order kept); returns how many remain.
  index_t prune() noexcept {
    const double b = bound();
    index_t w = 0;
    for (index_t r = 0; r < count; ++r) {
      if (lower(e[r].fv) > b) continue;
      e[w++] = e[r];
    }
    count = w;
    return w;
  }

  /// Re-measures the pending entries in index order (measure(id) returns the exact distance in
  /// T) and offers them to `list`; skips an entry whose lower bound already reaches the list's
  /// k-th value. touch(id) is called first for every entry that may be measured (a prefetch
  /// hint: the rows are scattered over the caller's data). Empties the buffer and restarts B from
  /// the list. Returns the re-measure count.
  template <class Measure, class Touch>
  index_t flush(candidate_list<T>& list, Measure&& measure, Touch&& touch) {
    for (index_t r = 0; r < count; ++r)
      if (!list.full() || lower(e[r].fv) < double(list.values[list.k - 1])) touch(e[r].id);
    index_t measured = 0;
    for (index_t r = 0; r < count; ++r) {
      // e_j >= L_j >= the k-th value, and j's index is larger than every listed one: it loses.
      if (list.full() && !(lower(e[r].fv) < double(list.values[list.k - 1]))) continue;
      list.offer(measure(e[r].id), e[r].id);
      ++measured;
    }
    count = 0;
    ub_count = list.count;
    for (index_t c = 0; c < list.count; ++c) ub[c] = double(list.values[c]);
    return measured;
  }

  /// Called when full(): prunes, and flushes when more than half the capacity would stay
  /// occupied (many entries within the margin of B: ties or near-ties), which keeps the buffer
  /// bounded and compactions amortised O(1) per recorded entry.
  template <class Measure, class Touch>
  void compact(candidate_list<T>& list, Measure&& measure, Touch&& touch) {
    if (prune() > cap / 2) flush(list, measure, touch);
  }
};

}  // namespace knn
}  // namespace detail
}  // namespace ladle
