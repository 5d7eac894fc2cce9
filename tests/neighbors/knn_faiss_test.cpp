// Agreement with FAISS IndexFlatL2 (fixtures/make_faiss_fixture.py): the neighbour sets are the
// same except where FAISS's float arithmetic cannot tell distances apart, and there ladle's set
// is the exact one: rank by rank, its exact (double) distances are never larger than those of
// FAISS's set.
#include <ladle/neighbors.hpp>

#include "neighbors/fixtures/faiss_knn.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
namespace fx = faiss_knn;

struct faiss_case_data {
  std::vector<float> ref, qry;
};

/// The generator's LCG draw, element for element (see make_faiss_fixture.py).
faiss_case_data faiss_case_draw(int levels, double shift, std::uint64_t state) {
  const std::size_t count = std::size_t(fx::n_ref + fx::n_query) * fx::dim;
  std::vector<float> all(count);
  for (float& x : all) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) * 0x1p-53;
    x = static_cast<float>(levels ? std::floor(u * levels) : u + shift);  // u * 1.0 is exact
  }
  const auto split = all.begin() + std::ptrdiff_t(fx::n_ref * fx::dim);
  return {std::vector<float>(all.begin(), split), std::vector<float>(split, all.end())};
}

double faiss_case_exact(const float* a, const float* b) {
  double s = 0;
  for (long f = 0; f < fx::dim; ++f) {
    const double e = double(a[f]) - double(b[f]);  // exact for floats of like magnitude
    s += e * e;
  }
  return s;
}

/// Checks one data set and returns how many queries' neighbour sets differ from FAISS's.
/// tie_scale: FAISS's distance error is at most tie_scale * (|q|^2 + |r|^2); 0 for exact data.
int faiss_case_check(const faiss_case_data& data, const int* faiss_ids, double tie_scale) {
  const auto rv = ladle::make_view(data.ref.data(), {fx::n_ref, fx::dim});
  const auto qv = ladle::make_view(data.qry.data(), {fx::n_query, fx::dim});
  const auto got = ladle::knn(qv, rv, {fx::k, 0, 0});
  double max_norm = 0;
  for (long j = 0; j < fx::n_ref; ++j) {
    double s = 0;
    for (long f = 0; f < fx::dim; ++f) s += double(data.ref[j * fx::dim + f]) * data.ref[j * fx::dim + f];
    max_norm = std::max(max_norm, s);
  }
  int differing = 0;
  for (long i = 0; i < fx::n_query; ++i) {
    CAPTURE(i);
    const float* q = &data.qry[std::size_t(i * fx::dim)];
    double qn = 0;
    for (long f = 0; f < fx::dim; ++f) qn += double(q[f]) * q[f];
    const double tol = tie_scale * (qn + max_norm);
    std::set<index_t> mine, theirs;
    std::vector<double> L, F;
    for (long r = 0; r < fx::k; ++r) {
      const index_t a = got.indices(i, r), b = faiss_ids[i * fx::k + r];
      mine.insert(a);
      theirs.insert(b);
      L.push_back(faiss_case_exact(q, &data.ref[std::size_t(a * fx::dim)]));
      F.push_back(faiss_case_exact(q, &data.ref[std::size_t(b * fx::dim)]));
    }
    std::sort(F.begin(), F.end());
    CHECK(std::is_sorted(L.begin(), L.end()));  // ladle lists by distance
    // Exactness: rank by rank, ladle's distances are at most FAISS's (up to one float ulp: ladle
    // ranks the exact distances rounded to float, ties to the smaller index).
    for (long r = 0; r < fx::k; ++r)
      CHECK(L[std::size_t(r)] <= F[std::size_t(r)] * (1.0 + 0x1p-23));
    if (mine == theirs) continue;
    ++differing;
    // Where the sets differ, FAISS's extra members tie with ladle's k-th within FAISS's error.
    for (index_t b : theirs)
      if (!mine.count(b))
        CHECK(faiss_case_exact(q, &data.ref[std::size_t(b * fx::dim)]) - L.back() <= tol);
  }
  return differing;
}

TEST_CASE("knn agrees with FAISS IndexFlatL2, and is exact where FAISS is not") {
  // u = 2^-24. FAISS computes |q|^2 + |r|^2 - 2 q.r in float: error below about (d + 4) u
  // (|q|^2 + |r|^2); twice that for the two distances a swap compares.
  const double tie_scale = 2.0 * (fx::dim + 4) * 0x1p-24;
  // Continuous data: the lists agree but for near-ties.
  const int uniform = faiss_case_check(faiss_case_draw(0, 0.0, 21), fx::uniform_ids, tie_scale);
  CHECK(uniform <= 2);
  // Integer grid: FAISS's arithmetic is exact here and, like ladle, it keeps the smaller index
  // among equal distances, so the lists are equal, order included, although many queries have a
  // tie across the k-th place.
  const faiss_case_data grid_data = faiss_case_draw(4, 0.0, 22);
  const int grid = faiss_case_check(grid_data, fx::grid_ids, 0.0);
  CHECK(grid == 0);
  const auto grid_got = ladle::knn(ladle::make_view(grid_data.qry.data(), {fx::n_query, fx::dim}),
                                   ladle::make_view(grid_data.ref.data(), {fx::n_ref, fx::dim}),
                                   {fx::k, 0, 0});
  int boundary_ties = 0;
  for (long i = 0; i < fx::n_query; ++i) {
    std::vector<double> all;
    for (long j = 0; j < fx::n_ref; ++j)
      all.push_back(faiss_case_exact(&grid_data.qry[std::size_t(i * fx::dim)], &grid_data.ref[std::size_t(j * fx::dim)]));
    std::sort(all.begin(), all.end());
    boundary_ties += all[std::size_t(fx::k - 1)] == all[std::size_t(fx::k)];
    for (long r = 0; r < fx::k; ++r) CHECK(grid_got.indices(i, r) == fx::grid_ids[i * fx::k + r]);
  }
  CHECK(boundary_ties > fx::n_query / 2);
  // Offset data: FAISS's float expansion loses most digits; ladle stays exact (checked above,
  // rank by rank) and the differences stay within FAISS's own error bound.
  const int offset = faiss_case_check(faiss_case_draw(0, 100.0, 23), fx::offset_ids, tie_scale);
  CHECK(offset > 0);
  MESSAGE("queries whose set differs from FAISS's: uniform ", uniform, ", grid ", grid, " (",
          boundary_ties, " with a tie across the k-th place), offset ", offset, " of ", fx::n_query);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
