// ladle/selection/rs2.hpp: RS2 (Okanovic et al., ICLR 2024), repeated random subsets drawn
// without replacement across rounds.
//
// Inputs: the data set size n (or int32/int64 labels for the class-balanced form), the
// per-round fraction in (0, 1], a seed. m = round(fraction * n) (ties to even) indices per
// round, at least 1.
//
// Law and order: think of an endless stream made of pass 0, pass 1, ..., each pass a
// pseudo-random permutation of [0, n) keyed by (seed, pass); round r is stream positions
// [r m, (r + 1) m), in stream order. So every index appears exactly once per pass, a pass
// lasts n / m rounds, and a new pass reshuffles. A round that straddles two passes takes the
// tail of one and the head of the next; indices of the head that are already in the tail are
// exchanged with later positions of the new pass (the first ones whose index is not in the
// tail), so a round never repeats an index and each pass is still a permutation.
// The permutations are 6-round Feistel networks over the next even power of two with cycle
// walking; their round keys come from Philox (seed, pass), the round function is a 32-bit
// integer hash. They are bijections, but not exactly uniform permutations.
//
// Class-balanced form: each class c runs its own schedule over its members with
// m_c = max(1, round(fraction * n_c)) per round; a round is the union of the classes' rounds
// (class after class in ascending label order). Round sizes are then sum_c m_c.
//
// Randomness: a pure function of (seed, class, pass): round(r) does not depend on earlier calls
// and any round is reached directly.
//
// Errors (ladle::error): n < 1, empty or non-int labels, fraction outside (0, 1] or NaN,
// round(fraction * n) = 0, r * m overflowing 2^63.
//
// Complexity: round(r) is O(m) expected (Feistel evaluations with cycle walking, < 4 per index
// on average, plus O(m) hash-set work at pass boundaries) when n >= 2 m or m divides n. For
// 1/2 < fraction < 1 with m not dividing n, the tail of a pass can itself have been exchanged,
// and reaching pass p costs O(p m) (still no replay of rounds). Memory: O(m); the class-balanced
// form keeps the class members, O(n).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

class rs2_schedule {
 public:
  /// Rounds of round(fraction * n) indices of [0, n).
  rs2_schedule(index_t n, double fraction, seed s);
  /// Class-balanced rounds over the classes of `labels`.
  template <class L>
  rs2_schedule(vector_view<L> labels, double fraction, seed s);

  /// Indices of round r.
  std::vector<index_t> round(std::uint64_t r) const;
  /// Into caller memory of round_size() entries.
  void round_into(std::uint64_t r, vector_view<index_t> out) const;

  index_t size() const noexcept { return n_; }
  /// Indices per round.
  index_t round_size() const noexcept { return m_total_; }
  /// Rounds until every index has been seen at least once (ceil(n / m), largest over classes).
  index_t rounds_per_pass() const noexcept;

 private:
  struct group {
    index_t n = 0, m = 0;
    std::uint64_t id = 0;
    std::vector<index_t> members;  // empty: identity
  };
  void add_group(index_t n, index_t m, std::uint64_t id, std::vector<index_t> members);

  index_t n_ = 0, m_total_ = 0;
  seed seed_;
  std::vector<group> groups_;
  friend struct rs2_access;
};

}  // namespace ladle

#include "ladle/selection/detail/rs2_impl.hpp"
