// sampling_strategy: every resolution imblearn 0.10's check_sampling_strategy makes, including
// its errors, on label sets with tied majorities and minorities.
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <string>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

ladle::sampling_strategy parse(const std::string& s) {
  if (s.rfind("ratio:", 0) == 0) return ladle::sampling_strategy(std::stod(s.substr(6)));
  if (s.rfind("dict:", 0) == 0 || s.rfind("list:", 0) == 0) {
    std::map<std::int64_t, ladle::index_t> counts;
    std::vector<std::int64_t> classes;
    std::string rest = s.substr(5);
    std::size_t at = 0;
    while (at < rest.size()) {
      std::size_t end = rest.find(',', at);
      if (end == std::string::npos) end = rest.size();
      const std::string item = rest.substr(at, end - at);
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos) classes.push_back(std::stoll(item));
      else counts[std::stoll(item.substr(0, eq))] = std::stoll(item.substr(eq + 1));
      at = end + 1;
    }
    return s[0] == 'd' ? ladle::sampling_strategy(counts)
                       : ladle::sampling_strategy::targeting(classes);
  }
  return ladle::sampling_strategy(s);
}

}  // namespace

TEST_CASE("resolve_sampling_strategy matches imblearn's check_sampling_strategy") {
  int checked = 0, errors = 0;
  for (const auto& c : fx::strategy_cases) {
    const std::string name = c.strategy;
    CAPTURE(name);
    CAPTURE(c.type);
    std::vector<ladle::class_count> classes;
    for (std::size_t i = 0; i < c.counts_flat.size(); i += 2)
      classes.push_back({c.counts_flat[i], c.counts_flat[i + 1]});
    const auto type = static_cast<ladle::sampling_type>(c.type);
    if (c.error) {
      CHECK_THROWS_AS(ladle::resolve_sampling_strategy(parse(c.strategy), classes, type),
                      ladle::invalid_argument);
      ++errors;
    } else {
      const auto got = ladle::resolve_sampling_strategy(parse(c.strategy), classes, type);
      std::vector<std::int64_t> flat;
      for (const auto& kv : got) {
        flat.push_back(kv.first);
        flat.push_back(kv.second);
      }
      std::string got_s, want_s;
      for (auto v : flat) got_s += std::to_string(v) + " ";
      for (auto v : c.expected_flat) want_s += std::to_string(v) + " ";
      CHECK(got_s == want_s);
    }
    ++checked;
  }
  CHECK(checked > 300);
  CHECK(errors > 50);  // the fixture exercises the refusals too
}

TEST_CASE("sampling_strategy: construction, names and refusals") {
  CHECK(ladle::sampling_strategy().which() == ladle::sampling_strategy::kind::automatic);
  CHECK(ladle::sampling_strategy("not majority").name() == "not majority");
  CHECK(ladle::sampling_strategy(0.5).name() == "0.5");
  CHECK(ladle::sampling_strategy(std::map<std::int64_t, ladle::index_t>{{1, 3}, {0, 2}}).name() ==
        "{0: 2, 1: 3}");
  CHECK(ladle::sampling_strategy::targeting({3, 1, 3}).name() == "[1, 3]");
  CHECK_THROWS_AS(ladle::sampling_strategy("balanced"), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::sampling_strategy(0.0), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::sampling_strategy(1.5), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::sampling_strategy(std::map<std::int64_t, ladle::index_t>{{0, -1}}),
                  ladle::invalid_argument);
  try {
    ladle::sampling_strategy("balanced");
  } catch (const ladle::error& e) {
    CHECK(std::string(e.what()).find("'balanced'") != std::string::npos);
  }
}

TEST_CASE("count_classes sorts labels and counts them (int32 and int64)") {
  std::vector<std::int32_t> y32 = {5, -2, 5, 5, 0, -2};
  const auto c = ladle::count_classes(ladle::make_view(y32.data(), y32.size()));
  REQUIRE(c.size() == 3);
  CHECK(c[0].label == -2);
  CHECK(c[0].count == 2);
  CHECK(c[1].label == 0);
  CHECK(c[2].label == 5);
  CHECK(c[2].count == 3);
  std::vector<std::int64_t> y64 = {1, 1, 0};
  CHECK(ladle::count_classes(ladle::make_view(y64.data(), y64.size())).size() == 2);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
