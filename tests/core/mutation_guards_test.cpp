// Properties a mutation pass showed the older tests could not see: the rejection step of the
// bounded integers and the fold order of parallel_reduce.
#include <ladle/core/parallel.hpp>
#include <ladle/core/random.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

TEST_CASE("uniform_u32 rejects: v mod 3 is uniform at bound 3 * 2^30") {
  // Without rejection, floor(x * 3/4) maps two of every four words x to a multiple of 3, so
  // P(v mod 3 = 0) would be 1/2 instead of 1/3 (Lemire's threshold 2^30 rejects x = 0 mod 4).
  const std::uint32_t bound = 3u << 30;
  ladle::philox g(ladle::seed{123});
  const int n = 30000;
  int zero = 0;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t v = ladle::uniform_u32(g, bound);
    REQUIRE(v < bound);
    zero += v % 3 == 0;
  }
  // 1/3 with sd sqrt(2/9 / n) = 0.0027: 0.02 is over seven sd away from both 1/3 and 1/2.
  CHECK(std::fabs(double(zero) / n - 1.0 / 3.0) < 0.02);
}

TEST_CASE("uniform_u32: a word in the rejection zone is skipped (known answer)") {
  // At bound 3 * 2^30 a word x is rejected exactly when x = 0 mod 4. Replay the raw stream and
  // predict every draw, including the ones that must consume a second word.
  const std::uint32_t bound = 3u << 30;
  ladle::philox raw(ladle::seed{9}), g(ladle::seed{9});
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::uint32_t x = raw();
    while (x % 4 == 0) {
      x = raw();
      ++rejected;
    }
    const auto want = static_cast<std::uint32_t>((std::uint64_t(x) * bound) >> 32);
    REQUIRE(ladle::uniform_u32(g, bound) == want);
  }
  CHECK(rejected > 300);  // about a quarter of 2000 words
}

TEST_CASE("parallel_reduce folds the chunk partials left to right from init") {
  // An order-sensitive combine (concatenation): any other fold order, or a tree, changes it.
  const ladle::index_t n = 1000, grain = 64;
  std::vector<ladle::index_t> want = {-1};
  for (ladle::index_t b = 0; b < n; b += grain) want.push_back(b);
  auto map = [](ladle::index_t begin, ladle::index_t) { return std::vector<ladle::index_t>{begin}; };
  auto combine = [](std::vector<ladle::index_t> acc, std::vector<ladle::index_t> p) {
    acc.insert(acc.end(), p.begin(), p.end());
    return acc;
  };
  CHECK(ladle::parallel_reduce(ladle::seq, n, grain, std::vector<ladle::index_t>{-1}, map, combine) == want);
  for (int threads : {2, 3, 8})
    CHECK(ladle::parallel_reduce(ladle::par(threads), n, grain, std::vector<ladle::index_t>{-1}, map,
                                 combine) == want);
  // A non-associative numeric combine: acc * 3 - partial, folded left to right.
  auto fold = [](double acc, double p) { return acc * 3.0 - p; };
  double expect = 0.5;
  for (ladle::index_t b = 0; b < n; b += grain) expect = fold(expect, double(b));
  CHECK(ladle::parallel_reduce(ladle::par(4), n, grain, 0.5,
                               [](ladle::index_t b, ladle::index_t) { return double(b); }, fold) ==
        expect);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
