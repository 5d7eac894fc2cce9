// greedy soup (order, strict vs >=, ties by index, the soup = mean of its ingredients) and
// metric-weighted averaging weights.
#include "ladle/averaging.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

TEST_CASE("greedy_soup: keeps candidates that improve held-out score, in score order") {
  // Models are points on a line; the held-out "accuracy" is -(theta - 1)^2 summed.
  // m0 = 1.4, m1 = 0.9, m2 = 3.0 (bad), m3 = 0.7, m4 = 1.2
  const std::vector<float> pos = {1.4f, 0.9f, 3.0f, 0.7f, 1.2f};
  std::vector<std::vector<float>> data;
  for (float p : pos) data.push_back(std::vector<float>(5, p));
  std::vector<ladle::state_dict> models;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    models.emplace_back("m" + std::to_string(i));
    models.back().add("w", ladle::make_view(data[i].data(), 5));
  }
  auto score_of = [](double x) { return -5 * (x - 1) * (x - 1); };
  std::vector<double> scores;
  for (float p : pos) scores.push_back(score_of(p));
  int calls = 0;
  auto evaluate = [&](const ladle::state_dict& d) {
    ++calls;
    const float* p = static_cast<const float*>(d.at("w").data);
    double s = 0;
    for (int i = 0; i < 5; ++i) s -= (p[i] - 1.0) * (p[i] - 1.0);
    return s;
  };
  const auto r = ladle::greedy_soup(models, scores, evaluate);
  // order by score: m1 (0.9: -0.05), m4 (1.2: -0.2), m3 (0.7: -0.45), m0 (1.4: -0.8), m2
  CHECK(r.order == std::vector<std::size_t>{1, 4, 3, 0, 2});
  CHECK(calls == 4);
  // {m1, m4} mean 1.05 -> -0.0125 > -0.05 kept; + m3: mean 0.9333 -> -0.0222 rejected;
  // + m0: mean (0.9+1.2+1.4)/3 = 1.1667 -> -0.139 rejected; + m2 rejected.
  CHECK(r.ingredients == std::vector<std::size_t>{1, 4});
  CHECK(r.score == doctest::Approx(-5 * 0.05 * 0.05));
  const auto v = r.soup.values<float>("w");
  CHECK(v(0) == doctest::Approx(1.05).epsilon(1e-7));
}

TEST_CASE("greedy_soup: strict by default, >= on request; ties in scores by index") {
  std::vector<std::vector<float>> data = {{1, 2}, {3, 4}, {5, 6}};
  std::vector<ladle::state_dict> models;
  for (std::size_t i = 0; i < 3; ++i) {
    models.emplace_back("m" + std::to_string(i));
    models.back().add("w", ladle::make_view(data[i].data(), 2));
  }
  const std::vector<double> scores = {0.5, 0.7, 0.7};  // tie between 1 and 2: 1 first
  auto flat = [](const ladle::state_dict&) { return 0.7; };  // every soup scores exactly the best
  const auto strict = ladle::greedy_soup(models, scores, flat);
  CHECK(strict.order == std::vector<std::size_t>{1, 2, 0});
  CHECK(strict.ingredients == std::vector<std::size_t>{1});
  CHECK(strict.soup.values<float>("w")(0) == 3.0f);
  ladle::greedy_soup_options ge;
  ge.accept_equal = true;
  const auto loose = ladle::greedy_soup(models, scores, flat, ge);
  CHECK(loose.ingredients == std::vector<std::size_t>{1, 2, 0});
  CHECK(loose.soup.values<float>("w")(0) == 3.0f);  // (3 + 5 + 1) / 3
  CHECK(loose.soup.values<float>("w")(1) == 4.0f);
  CHECK(error_of([&] { ladle::greedy_soup(models, {1.0}, flat); }).find("'scores' has 1 entries for 3 models") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::greedy_soup(models, scores, nullptr); }).find("'evaluate' is empty") !=
        std::string::npos);
}

TEST_CASE("metric_weights: power law of the metric, p = 0 uniform") {
  auto w = ladle::metric_weights({1, 2, 4}, 1.0, ladle::metric_direction::lower_is_better);
  CHECK(w[0] == doctest::Approx(4.0 / 7));
  CHECK(w[1] == doctest::Approx(2.0 / 7));
  CHECK(w[2] == doctest::Approx(1.0 / 7));
  w = ladle::metric_weights({1, 2, 3}, 2.0, ladle::metric_direction::higher_is_better);
  CHECK(w[0] == doctest::Approx(1.0 / 14));
  CHECK(w[2] == doctest::Approx(9.0 / 14));
  w = ladle::metric_weights({0.3, 7, 1e9}, 0.0, ladle::metric_direction::lower_is_better);
  for (double x : w) CHECK(x == doctest::Approx(1.0 / 3));
  w = ladle::metric_weights({1, 2}, 2000.0, ladle::metric_direction::lower_is_better);  // no overflow
  CHECK(w[0] == 1.0);
  CHECK(w[1] == 0.0);
  CHECK(error_of([&] { ladle::metric_weights({1, 0}, 1, ladle::metric_direction::higher_is_better); })
            .find("entry 1 is 0") != std::string::npos);
  std::vector<float> a = {1, 1}, b = {4, 4};
  std::vector<ladle::state_dict> m(2);
  m[0].add("w", ladle::make_view(a.data(), 2));
  m[1].add("w", ladle::make_view(b.data(), 2));
  const auto r = ladle::metric_weighted_average(m, {1, 2}, 1.0, ladle::metric_direction::lower_is_better);
  CHECK(r.values<float>("w")(0) == doctest::Approx(2.0));  // 2/3 * 1 + 1/3 * 4
}

}  // namespace LADLE_TEST_FILE
}  // namespace
