// End-to-end tests of `ladle soup` and `ladle merge`: outputs equal the averaging family called
// directly on the same files, bit for bit; bad input fails cleanly.
#include "cli_support.hpp"

#include <ladle/averaging.hpp>
#include <ladle/averaging/files.hpp>
#include <ladle/core/random.hpp>
#include <ladle/io/safetensors.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace ladle_cli_test;

namespace {

/// A small checkpoint: w [4, 8] and b [4] float32 drawn from Philox stream `k`, step I64.
void save_checkpoint(const std::string& path, std::uint64_t k, std::int64_t rows = 4) {
  ladle::philox rng(ladle::seed{99}, k);
  std::vector<float> w(static_cast<std::size_t>(rows * 8)), b(4);
  for (auto& x : w) x = static_cast<float>(ladle::normal(rng));
  for (auto& x : b) x = static_cast<float>(ladle::normal(rng));
  const std::int64_t step = 100 + static_cast<std::int64_t>(k);
  ladle::save_safetensors(path, {{"w", ladle::safetensors_dtype::f32, {rows, 8}, w.data()},
                                 {"b", ladle::safetensors_dtype::f32, {4}, b.data()},
                                 {"step", ladle::safetensors_dtype::i64, {1}, &step}},
                          {{"origin", "test"}});
}

/// Every tensor of `path` equals the same-named tensor of `want`, bytes and shape.
void check_equal(const std::string& path, const ladle::state_dict& want) {
  const auto f = ladle::safetensors_file::open(path);
  REQUIRE(f.tensors().size() == want.size());
  for (const auto& t : want.tensors()) {
    CAPTURE(t.name);
    const auto& got = f.at(t.name);
    CHECK(got.dtype == ladle::safetensors_from_dtype(t.type));
    CHECK(std::vector<ladle::index_t>(got.shape.begin(), got.shape.end()) == t.shape);
    REQUIRE(got.bytes() == t.bytes());
    CHECK(std::memcmp(f.data(got), t.data, t.bytes()) == 0);
  }
}

}  // namespace

TEST_CASE("cli soup: one file gives that file; weighted soup equals weighted_average") {
  const std::string a = at("soup_a.safetensors"), b = at("soup_b.safetensors");
  save_checkpoint(a, 1);
  save_checkpoint(b, 2);
  const std::string a_bytes = slurp(a), b_bytes = slurp(b);
  auto r = cli("soup '" + a + "' -o '" + at("soup_1.safetensors") + "'");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "soup: 1 checkpoints"));
  const auto fa = ladle::safetensors_checkpoint::open(a);
  check_equal(at("soup_1.safetensors"), ladle::state_dict_from(fa));

  r = cli("soup '" + a + "' '" + b + "' -o '" + at("soup_2.safetensors") + "' --weights 1,3 -q");
  REQUIRE(r.rc == 0);
  const auto fb = ladle::safetensors_checkpoint::open(b);
  const auto want = ladle::weighted_average({ladle::state_dict_from(fa), ladle::state_dict_from(fb)}, {1.0, 3.0});
  check_equal(at("soup_2.safetensors"), want.view());
  CHECK(ladle::safetensors_file::open(at("soup_2.safetensors")).metadata().at("origin") == "test");

  // bf16 output.
  REQUIRE(cli("soup '" + a + "' '" + b + "' -o '" + at("soup_bf16.safetensors") + "' --dtype bf16 -q").rc == 0);
  CHECK(ladle::safetensors_file::open(at("soup_bf16.safetensors")).at("w").dtype == ladle::safetensors_dtype::bf16);

  // Mismatched checkpoints, wrong weight counts: errors, no output, inputs unchanged.
  save_checkpoint(at("soup_c.safetensors"), 3, /*rows=*/5);
  const auto before = listing();
  r = cli("soup '" + a + "' '" + at("soup_c.safetensors") + "' -o '" + at("soup_bad.safetensors") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "'w'"));
  r = cli("soup '" + a + "' '" + b + "' -o '" + at("soup_bad.safetensors") + "' --weights 1");
  CHECK(r.rc == 2);
  r = cli("soup '" + a + "' '" + b + "' -o '" + at("soup_bad.safetensors") + "' --weights 1,x");
  CHECK(r.rc == 2);
  CHECK(listing() == before);
  CHECK(slurp(a) == a_bytes);
  CHECK(slurp(b) == b_bytes);
}

TEST_CASE("cli merge: every method equals the library call") {
  const std::string base = at("m_base.safetensors"), x = at("m_x.safetensors"), y = at("m_y.safetensors");
  save_checkpoint(base, 10);
  save_checkpoint(x, 11);
  save_checkpoint(y, 12);
  const auto fbase = ladle::safetensors_checkpoint::open(base);
  const auto fx = ladle::safetensors_checkpoint::open(x);
  const auto fy = ladle::safetensors_checkpoint::open(y);
  const auto sb = ladle::state_dict_from(fbase), sx = ladle::state_dict_from(fx), sy = ladle::state_dict_from(fy);

  struct mcase { const char* args; ladle::merge_method method; double density, drop; };
  for (const mcase& c : {mcase{"--method task-arithmetic --lambda 0.5", ladle::merge_method::task_arithmetic, 1.0, 0.0},
                         mcase{"--method ties --density 0.5 --lambda 0.5", ladle::merge_method::ties, 0.5, 0.0},
                         mcase{"--method dare --density 0.7 --seed 3 --lambda 0.5", ladle::merge_method::dare_linear, 1.0, 0.3},
                         mcase{"--method dare-ties --density 0.7 --seed 3 --lambda 0.5", ladle::merge_method::dare_ties, 1.0, 0.3}}) {
    CAPTURE(c.args);
    const std::string out = at("merged.safetensors");
    const auto r = cli("merge --base '" + base + "' '" + x + "' '" + y + "' -o '" + out + "' --weights 1,2 --force -q " + c.args);
    REQUIRE(r.rc == 0);
    ladle::merge_options o;
    o.method = c.method;
    o.weights = {1.0, 2.0};
    o.lambda = 0.5;
    o.density = c.density;
    if (c.drop > 0) o.drop_rate = 1.0 - 0.7;
    o.seed = ladle::seed{3};
    check_equal(out, ladle::merge_task_vectors(sb, {sx, sy}, o).view());
  }
  REQUIRE(cli("merge --base '" + base + "' '" + x + "' -o '" + at("slerp.safetensors") + "' --method slerp --t 0.3 -q").rc == 0);
  check_equal(at("slerp.safetensors"), ladle::slerp(sb, sx, 0.3).view());

  const auto before = listing();
  CHECK(cli("merge --base '" + base + "' '" + x + "' -o '" + at("bad.safetensors") + "' --method average").rc == 2);
  CHECK(cli("merge '" + x + "' '" + y + "' -o '" + at("bad.safetensors") + "' --method ties").rc == 2);
  CHECK(cli("merge --base '" + base + "' '" + x + "' '" + y + "' -o '" + at("bad.safetensors") + "' --method slerp").rc == 2);
  CHECK(cli("merge --base '" + base + "' '" + x + "' -o '" + at("bad.safetensors") + "' --density 1.5").rc == 2);
  save_checkpoint(at("m_other.safetensors"), 13, /*rows=*/6);
  const auto r = cli("merge --base '" + base + "' '" + at("m_other.safetensors") + "' -o '" + at("bad.safetensors") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "'w'"));
  auto after = listing();
  after.erase("m_other.safetensors");
  CHECK(after == before);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
