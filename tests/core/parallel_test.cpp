#include <ladle/core/parallel.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

TEST_CASE("parallel_for covers every index once, with fixed chunk boundaries") {
  for (auto threads : {1, 2, 3, 8}) {
    std::vector<int> hits(1003, 0);
    std::vector<std::pair<index_t, index_t>> chunks(ladle::chunk_count(1003, 100));
    ladle::parallel_for(ladle::par(threads), 1003, 100, [&](index_t b, index_t e) {
      chunks[static_cast<std::size_t>(b / 100)] = {b, e};
      for (index_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)] += 1;
    });
    for (int h : hits) REQUIRE(h == 1);
    CHECK(chunks.size() == 11);
    CHECK(chunks.back() == std::pair<index_t, index_t>{1000, 1003});
  }
  int calls = 0;
  ladle::parallel_for(ladle::par, 0, 10, [&](index_t, index_t) { ++calls; });
  CHECK(calls == 0);
  CHECK_THROWS_AS(ladle::parallel_for(ladle::seq, 10, 0, [](index_t, index_t) {}),
                  ladle::invalid_argument);
}

TEST_CASE("parallel_reduce is bit-identical for every thread count") {
  std::vector<double> x(100000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(double(i)) * 1e6 + 1.0 / (i + 1);
  auto sum = [&](auto policy) {
    return ladle::parallel_reduce(
        policy, index_t(x.size()), 777, 0.0,
        [&](index_t b, index_t e) {
          double s = 0;
          for (index_t i = b; i < e; ++i) s += x[static_cast<std::size_t>(i)];
          return s;
        },
        [](double a, double b) { return a + b; });
  };
  const double s = sum(ladle::seq);
  CHECK(sum(ladle::par(2)) == s);
  CHECK(sum(ladle::par(4)) == s);
  CHECK(sum(ladle::par) == s);
}

TEST_CASE("exceptions in a chunk reach the caller; the pool stays usable") {
  CHECK_THROWS_AS(ladle::parallel_for(ladle::par(2), 100, 10,
                                      [](index_t b, index_t) {
                                        if (b == 50) throw std::runtime_error("chunk 5");
                                      }),
                  std::runtime_error);
  std::atomic<int> n{0};
  ladle::parallel_for(ladle::par(2), 100, 10, [&](index_t b, index_t e) { n += int(e - b); });
  CHECK(n == 100);
}

TEST_CASE("nested parallel_for runs inline") {
  std::vector<int> hits(64, 0);
  ladle::parallel_for(ladle::par(2), 8, 1, [&](index_t ob, index_t) {
    ladle::parallel_for(ladle::par(2), 8, 1, [&](index_t ib, index_t) {
      hits[static_cast<std::size_t>(ob * 8 + ib)] += 1;
    });
  });
  for (int h : hits) CHECK(h == 1);
}

TEST_CASE("set_parallel_for routes chunks to a host pool") {
  int backend_calls = 0;
  ladle::set_parallel_for(
      [&](index_t tasks, const std::function<void(index_t)>& task, int threads) {
        ++backend_calls;
        CHECK(threads >= 2);
        for (index_t i = tasks; i-- > 0;) task(i);  // reverse order: results must not care
      });
  std::vector<double> out(1000);
  const double total = ladle::parallel_reduce(
      ladle::par(4), 1000, 10, 0.0,
      [&](index_t b, index_t e) {
        double s = 0;
        for (index_t i = b; i < e; ++i) s += 1.0 / double(i + 1);
        return s;
      },
      [](double a, double b) { return a + b; });
  ladle::set_parallel_for(nullptr);
  CHECK(backend_calls == 1);
  const double reference = ladle::parallel_reduce(
      ladle::seq, 1000, 10, 0.0,
      [&](index_t b, index_t e) {
        double s = 0;
        for (index_t i = b; i < e; ++i) s += 1.0 / double(i + 1);
        return s;
      },
      [](double a, double b) { return a + b; });
  CHECK(total == reference);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
