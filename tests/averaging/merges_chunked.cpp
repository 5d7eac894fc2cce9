// The chunked merges (merge_task_vectors_chunked, slerp_chunked) equal the whole-tensor calls bit
// for bit: every method, chunk sizes from 1 element to past the tensor, odd lengths, mixed input
// dtypes and output dtypes, ties at the TIES threshold, integer and empty tensors.
#include "ladle/averaging.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {
namespace LADLE_TEST_FILE {

namespace {

/// One model: "w" 37x29 float32, "v" 1237 bf16, "e" empty, "q" 301 float32 drawn from a few
/// values (many ties at the TIES threshold), "i" 11 int32.
struct model {
  std::vector<float> w, q;
  std::vector<std::uint16_t> v;
  std::vector<std::int32_t> i;
  model(std::mt19937& g, float scale) {
    std::normal_distribution<float> n(0.0f, scale);
    std::uniform_int_distribution<int> pick(-3, 3);
    for (int k = 0; k < 37 * 29; ++k) w.push_back(n(g) * (k % 5 == 0 ? 100.0f : 1.0f));
    for (int k = 0; k < 1237; ++k) {
      const float x = n(g);
      std::uint32_t u;
      std::memcpy(&u, &x, 4);
      v.push_back(static_cast<std::uint16_t>(u >> 16));
    }
    for (int k = 0; k < 301; ++k) q.push_back(0.25f * static_cast<float>(pick(g)));
    for (int k = 0; k < 11; ++k) i.push_back(k * 7 - 30);
  }
  ladle::state_dict dict(const std::string& name) {
    ladle::state_dict d(name);
    d.add("w", ladle::make_view(w.data(), {37, 29}));
    d.add("v", ladle::dtype_v<ladle::bfloat16>, {1237}, static_cast<const void*>(v.data()));
    d.add("e", ladle::dtype_v<float>, {0, 4}, static_cast<const void*>(w.data()));
    d.add("q", ladle::make_view(q.data(), q.size()));
    d.add("i", ladle::dtype_v<std::int32_t>, {11}, static_cast<const void*>(i.data()));
    return d;
  }
};

/// What the sink received, per tensor, plus a check that the chunks came in tensor order.
struct collected {
  std::vector<std::string> order;
  std::vector<std::vector<unsigned char>> bytes;
  ladle::merge_sink sink() {
    return [this](const std::string& name, const void* p, std::size_t n) {
      if (order.empty() || order.back() != name) {
        order.push_back(name);
        bytes.emplace_back();
      }
      const auto* c = static_cast<const unsigned char*>(p);
      bytes.back().insert(bytes.back().end(), c, c + n);
    };
  }
};

/// Same names, order and bytes as the whole-tensor result.
void check_same(const collected& got, const ladle::owned_state_dict& want) {
  const auto& ts = want.dict().tensors();
  REQUIRE(got.order.size() == ts.size());
  for (std::size_t k = 0; k < ts.size(); ++k) {
    CAPTURE(ts[k].name);
    CHECK(got.order[k] == ts[k].name);
    REQUIRE(got.bytes[k].size() == ts[k].bytes());
    if (ts[k].bytes() > 0)  // an empty tensor's storage may be null
      CHECK(std::memcmp(got.bytes[k].data(), ts[k].data, ts[k].bytes()) == 0);
  }
}

}  // namespace

TEST_CASE("merge_task_vectors_chunked equals merge_task_vectors bit for bit") {
  std::mt19937 g(11);
  model b(g, 1.0f), m1(g, 1.0f), m2(g, 0.5f), m3(g, 2.0f);
  // models near the base (task vectors small against base, as in fine-tuning)
  for (auto* m : {&m1, &m2, &m3})
    for (std::size_t k = 0; k < m->w.size(); ++k) m->w[k] = b.w[k] + 0.01f * m->w[k];
  const auto base = b.dict("base");
  const std::vector<ladle::state_dict> models = {m1.dict("m1"), m2.dict("m2"), m3.dict("m3")};
  struct mcase { ladle::merge_method method; double density, drop; ladle::output_dtype out; };
  using M = ladle::merge_method;
  using O = ladle::output_dtype;
  for (const mcase& mc : {mcase{M::task_arithmetic, 1, 0, O::same_as_first},
                          mcase{M::task_arithmetic, 1, 0, O::float16},
                          mcase{M::ties, 0.3, 0, O::same_as_first}, mcase{M::ties, 1.0, 0, O::float32},
                          mcase{M::ties, 0.5, 0, O::bfloat16}, mcase{M::ties, 0.001, 0, O::float32},
                          mcase{M::ties, 0.999, 0, O::float32},
                          mcase{M::dare_linear, 1, 0.3, O::same_as_first},
                          mcase{M::dare_ties, 1, 0.6, O::float32}}) {
    ladle::merge_options o;
    o.method = mc.method;
    o.density = mc.density;
    o.drop_rate = mc.drop;
    o.weights = {1.0, 0.5, -2.0};
    o.lambda = 0.7;
    o.seed = ladle::seed{5};
    o.output = mc.out;
    const auto want = ladle::merge_task_vectors(base, models, o);
    for (ladle::index_t chunk : {1, 7, 64, 300, 1073, 100000}) {
      CAPTURE(static_cast<int>(mc.method));
      CAPTURE(mc.density);
      CAPTURE(chunk);
      collected got;
      ladle::chunked_merge_options c;
      c.chunk = chunk;
      ladle::index_t consumed = 0;
      c.consumed = [&](const std::string&, ladle::index_t begin, ladle::index_t end) {
        CHECK(end - begin <= chunk);
        consumed += end - begin;
      };
      ladle::merge_task_vectors_chunked(base, models, o, got.sink(), c);
      check_same(got, want);
      // every element of every tensor read once per pass (TIES with density < 1 and something
      // to keep: three passes)
      ladle::index_t expected = 11;
      for (const ladle::index_t n : {37 * 29, 1237, 0, 301}) {
        const bool select = mc.method == M::ties && mc.density < 1 && std::floor(mc.density * double(n)) > 0;
        expected += n * (select ? 3 : 1);
      }
      CHECK(consumed == expected);
    }
  }
}

TEST_CASE("merge_task_vectors_chunked: the TIES threshold among many ties, and keep = 0") {
  // one tensor of 1001 values from {0, +-0.5, +-1}: the threshold falls inside a run of equal
  // magnitudes, so the lowest-index rule decides which of them survive
  std::vector<float> b(1001, 0.0f), x(1001), y(1001);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = 0.5f * static_cast<float>(static_cast<int>(i * 7 % 5) - 2);
    y[i] = 0.5f * static_cast<float>(static_cast<int>(i * 3 % 5) - 2);
  }
  ladle::state_dict sb("b"), sx("x"), sy("y");
  sb.add("t", ladle::make_view(b.data(), b.size()));
  sx.add("t", ladle::make_view(x.data(), x.size()));
  sy.add("t", ladle::make_view(y.data(), y.size()));
  for (double density : {0.0005, 0.1, 0.5, 0.7, 0.95}) {
    ladle::merge_options o;
    o.method = ladle::merge_method::ties;
    o.density = density;
    const auto want = ladle::merge_task_vectors(sb, {sx, sy}, o);
    for (ladle::index_t chunk : {1, 13, 1001}) {
      CAPTURE(density);
      CAPTURE(chunk);
      collected got;
      ladle::chunked_merge_options c;
      c.chunk = chunk;
      ladle::merge_task_vectors_chunked(sb, {sx, sy}, o, got.sink(), c);
      check_same(got, want);
    }
  }
}

TEST_CASE("slerp_chunked equals slerp bit for bit") {
  std::mt19937 g(12);
  model a(g, 1.0f), b(g, 1.0f), near(g, 1.0f);
  for (std::size_t k = 0; k < near.w.size(); ++k) near.w[k] = a.w[k] * 1.0001f;  // lerp branch
  near.q = a.q;
  const auto da = a.dict("a"), db = b.dict("b"), dn = near.dict("near");
  for (double t : {0.0, 0.3, 1.0}) {
    for (auto out : {ladle::output_dtype::same_as_first, ladle::output_dtype::bfloat16}) {
      ladle::slerp_options o;
      o.output = out;
      for (const auto* other : {&db, &dn}) {
        const auto want = ladle::slerp(da, *other, t, o);
        for (ladle::index_t chunk : {1, 7, 300, 100000}) {
          CAPTURE(t);
          CAPTURE(chunk);
          collected got;
          ladle::chunked_merge_options c;
          c.chunk = chunk;
          ladle::slerp_chunked(da, *other, t, o, got.sink(), c);
          check_same(got, want);
        }
      }
    }
  }
}

TEST_CASE("chunked merges: errors before any output") {
  std::vector<float> x(5, 1.0f);
  std::vector<std::int32_t> n(3, 1);
  ladle::state_dict a("a"), b("b");
  a.add("x", ladle::make_view(x.data(), x.size()));
  a.add("n", ladle::make_view(n.data(), n.size()));
  b.add("x", ladle::make_view(x.data(), x.size()));
  b.add("n", ladle::make_view(n.data(), n.size()));
  std::size_t calls = 0;
  const ladle::merge_sink sink = [&](const std::string&, const void*, std::size_t) { ++calls; };
  ladle::chunked_merge_options c;
  c.chunk = 0;
  CHECK(error_of([&] { ladle::merge_task_vectors_chunked(a, {b}, {}, sink, c); })
            .find("merge_task_vectors_chunked: 'chunking.chunk' must be >= 1, got 0") != std::string::npos);
  CHECK(error_of([&] { ladle::slerp_chunked(a, b, 0.5, {}, sink, c); })
            .find("slerp_chunked: 'chunking.chunk' must be >= 1") != std::string::npos);
  c.chunk = 2;
  CHECK(error_of([&] { ladle::merge_task_vectors_chunked(a, {b}, {}, {}, c); }).find("'sink' is empty") !=
        std::string::npos);
  ladle::merge_options refuse;
  refuse.integers = ladle::integer_tensors::refuse;
  CHECK(error_of([&] { ladle::merge_task_vectors_chunked(a, {b}, refuse, sink, c); })
            .find("tensor 'n' of 'a' has integer dtype") != std::string::npos);
  ladle::merge_options bad;
  bad.method = ladle::merge_method::ties;
  bad.density = 0;
  CHECK(error_of([&] { ladle::merge_task_vectors_chunked(a, {b}, bad, sink, c); })
            .find("'options.density' must be in (0, 1], got 0") != std::string::npos);
  CHECK(error_of([&] { ladle::slerp_chunked(a, b, 1.5, {}, sink, c); }).find("'t' must be in [0, 1]") !=
        std::string::npos);
  std::vector<float> y(6, 1.0f);
  ladle::state_dict other("other");
  other.add("x", ladle::make_view(y.data(), y.size()));
  other.add("n", ladle::make_view(n.data(), n.size()));
  CHECK(error_of([&] { ladle::merge_task_vectors_chunked(a, {other}, {}, sink, c); }) != "<no error>");
  CHECK(calls == 0);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
