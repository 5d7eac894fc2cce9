// average_safetensors: file to file, bit-identical to the in-memory average, checked by numpy.
#include "ladle/averaging/files.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

struct scratch_dir {
  std::string path;
  scratch_dir() {
    char tmpl[] = "/tmp/ladle_avg_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~scratch_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& n) const { return path + "/" + n; }
};

struct model_data {
  std::vector<float> w;
  std::vector<std::uint16_t> b;  // bf16 bits
  std::int64_t step;
  std::uint8_t mask[3];
};

model_data make_model(std::mt19937& g, std::size_t n) {
  model_data m;
  std::uniform_real_distribution<float> d(-2, 2);
  for (std::size_t i = 0; i < n; ++i) m.w.push_back(d(g));
  for (std::size_t i = 0; i < 1000 + 5; ++i) {
    const float f = d(g);
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    m.b.push_back(static_cast<std::uint16_t>(u >> 16));
  }
  m.step = static_cast<std::int64_t>(g() % 1000);
  for (auto& x : m.mask) x = static_cast<std::uint8_t>(g() % 2);
  return m;
}

void save(const std::string& path, const model_data& m, std::size_t n) {
  using D = ladle::safetensors_dtype;
  ladle::save_safetensors(path,
                          {{"layer.weight", D::f32, {static_cast<std::int64_t>(n / 3), 3}, m.w.data()},
                           {"emb", D::bf16, {1005}, m.b.data()},
                           {"step", D::i64, {}, &m.step},
                           {"mask", D::boolean, {3}, m.mask}},
                          {{"format", "pt"}});
}

}  // namespace

TEST_CASE("average_safetensors: equals the in-memory average bit for bit; numpy agrees") {
  scratch_dir dir;
  std::mt19937 g(42);
  const std::size_t n = 3 * 40000;
  std::vector<model_data> data;
  std::vector<std::string> paths;
  for (int m = 0; m < 3; ++m) {
    data.push_back(make_model(g, n));
    paths.push_back(dir / ("m" + std::to_string(m) + ".safetensors"));
    save(paths.back(), data.back(), n);
  }
  ladle::file_average_options opt;
  opt.window_bytes = 10000;  // many windows per tensor
  opt.sync = false;
  std::uint64_t last_done = 0, last_total = 0;
  opt.progress = [&](std::uint64_t done, std::uint64_t total) {
    CHECK(done >= last_done);
    last_done = done;
    last_total = total;
  };
  const std::string out = ladle::average_safetensors(paths, dir / "soup.safetensors", {}, opt);
  CHECK(out == dir / "soup.safetensors");
  CHECK(last_done == last_total);
  CHECK(last_total == 3 * (4 * n + 2 * 1005) + 8 + 3);  // every float input + the copied integers

  // in-memory reference over the same bytes
  std::vector<ladle::state_dict> models;
  for (int m = 0; m < 3; ++m) {
    models.emplace_back("m");
    models.back().add("layer.weight", ladle::make_view(data[m].w.data(), {static_cast<ladle::index_t>(n / 3), 3}));
    models.back().add("emb", ladle::dtype_v<ladle::bfloat16>, {1005}, data[m].b.data());
    models.back().add("step", ladle::dtype_v<std::int64_t>, {}, &data[m].step);
    models.back().add("mask", ladle::dtype_v<std::uint8_t>, {3}, data[m].mask);
  }
  const auto ref = ladle::uniform_average(models);
  const auto f = ladle::safetensors_file::open(out);
  CHECK(f.metadata().at("format") == "pt");
  CHECK(std::memcmp(f.data(f.at("layer.weight")), ref.values<float>("layer.weight").data(), 4 * n) == 0);
  CHECK(std::memcmp(f.data(f.at("emb")), ref.values<ladle::bfloat16>("emb").data(), 2 * 1005) == 0);
  CHECK(f.flat_view<std::int64_t>("step")(0) == data[0].step);
  CHECK(f.at("mask").dtype == ladle::safetensors_dtype::boolean);  // BOOL stays BOOL
  CHECK(std::memcmp(f.data(f.at("mask")), data[0].mask, 3) == 0);

  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0) {
    std::string cmd = "/usr/bin/python3 " LADLE_IO_TEST_DIR "/fixtures/check_average.py '" + out + "'";
    for (const auto& p : paths) cmd += " '" + p + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }

  // sharded output, bfloat16, weighted: same bits as the in-memory form
  ladle::file_average_options so;
  so.max_shard_bytes = 100000;
  so.sync = false;
  so.average.output = ladle::output_dtype::bfloat16;
  so.metadata = std::map<std::string, std::string>{{"merge", "weighted"}};
  const std::string idx = ladle::average_safetensors(paths, dir / "sharded", {1, 2, 3}, so);
  CHECK(idx == dir / "sharded/model.safetensors.index.json");
  const auto c = ladle::safetensors_checkpoint::open(dir / "sharded");
  CHECK(c.files().size() >= 2);
  CHECK(c.metadata().at("merge") == "weighted");
  const auto ref2 = ladle::weighted_average(models, {1, 2, 3}, so.average);
  const auto& e = c.at("layer.weight");
  CHECK(e.tensor->dtype == ladle::safetensors_dtype::bf16);
  CHECK(std::memcmp(e.file->data(*e.tensor), ref2.values<ladle::bfloat16>("layer.weight").data(), 2 * n) == 0);
}

TEST_CASE("merge_safetensors / slerp_safetensors: equal the in-memory merges bit for bit") {
  scratch_dir dir;
  std::mt19937 g(43);
  const std::size_t n = 3 * 4001;
  std::vector<model_data> data;
  std::vector<std::string> paths;
  std::vector<ladle::state_dict> models;
  for (int m = 0; m < 3; ++m) {
    data.push_back(make_model(g, n));
    paths.push_back(dir / ("m" + std::to_string(m) + ".safetensors"));
    save(paths.back(), data.back(), n);
  }
  for (int m = 0; m < 3; ++m) {
    models.emplace_back("m");
    models.back().add("layer.weight", ladle::make_view(data[m].w.data(), {static_cast<ladle::index_t>(n / 3), 3}));
    models.back().add("emb", ladle::dtype_v<ladle::bfloat16>, {1005}, data[m].b.data());
    models.back().add("step", ladle::dtype_v<std::int64_t>, {}, &data[m].step);
    models.back().add("mask", ladle::dtype_v<std::uint8_t>, {3}, data[m].mask);
  }
  const auto same = [](const ladle::safetensors_checkpoint& c, const ladle::owned_state_dict& ref) {
    for (const auto& t : ref.dict().tensors()) {
      CAPTURE(t.name);
      const auto& e = c.at(t.name);
      REQUIRE(e.tensor->bytes() == t.bytes());
      CHECK(std::memcmp(e.file->data(*e.tensor), t.data, t.bytes()) == 0);
    }
    CHECK(c.at("mask").tensor->dtype == ladle::safetensors_dtype::boolean);  // BOOL stays BOOL
  };
  ladle::file_merge_options f;
  f.window_bytes = 1000;  // chunks of 83 elements: many per tensor
  f.sync = false;
  for (auto method : {ladle::merge_method::task_arithmetic, ladle::merge_method::ties,
                      ladle::merge_method::dare_ties}) {
    ladle::merge_options o;
    o.method = method;
    o.density = method == ladle::merge_method::ties ? 0.3 : 1.0;
    o.drop_rate = method == ladle::merge_method::dare_ties ? 0.4 : 0.0;
    o.weights = {2.0, 0.5};
    const std::string out = ladle::merge_safetensors(paths[0], {paths[1], paths[2]}, dir / "merged.safetensors", o, f);
    CHECK(out == dir / "merged.safetensors");
    const auto c = ladle::safetensors_checkpoint::open(out);
    CHECK(c.metadata().at("format") == "pt");
    same(c, ladle::merge_task_vectors(models[0], {models[1], models[2]}, o));
  }
  ladle::file_merge_options sharded = f;
  sharded.max_shard_bytes = 20000;
  ladle::slerp_options so;
  so.output = ladle::output_dtype::bfloat16;
  const std::string idx = ladle::slerp_safetensors(paths[1], paths[2], 0.3, dir / "slerp", so, sharded);
  const auto c = ladle::safetensors_checkpoint::open(idx);
  CHECK(c.files().size() >= 2);
  same(c, ladle::slerp(models[1], models[2], 0.3, so));

  ladle::merge_options bad;
  bad.weights = {1.0};
  CHECK(error_of([&] { ladle::merge_safetensors(paths[0], {paths[1], paths[2]}, dir / "bad.safetensors", bad, f); })
            .find("merge_safetensors: 'options.weights' has 1 entries for 2 models") != std::string::npos);
  CHECK(error_of([&] { ladle::slerp_safetensors(paths[0], paths[1], 2.0, dir / "bad.safetensors"); })
            .find("slerp_safetensors: 't' must be in [0, 1], got 2") != std::string::npos);
  f.window_bytes = 0;
  CHECK(error_of([&] { ladle::merge_safetensors(paths[0], {paths[1]}, dir / "bad.safetensors", {}, f); })
            .find("'files.window_bytes' must be positive") != std::string::npos);
  f.window_bytes = 1000;
  ladle::save_safetensors(dir / "short.safetensors",
                          {{"emb", ladle::safetensors_dtype::bf16, {1005}, data[0].b.data()}});
  CHECK(error_of([&] { ladle::merge_safetensors(paths[0], {dir / "short.safetensors"}, dir / "bad.safetensors", {}, f); })
            .find("merge_safetensors: 'models' tensor '") != std::string::npos);
  CHECK(!ladle::detail::file_exists(dir / "bad.safetensors"));
}

TEST_CASE("average_safetensors: errors name the files and the tensor; nothing is written") {
  scratch_dir dir;
  const float a[4] = {1, 2, 3, 4};
  const float b[2] = {1, 2};
  using D = ladle::safetensors_dtype;
  ladle::save_safetensors(dir / "a.safetensors", {{"w", D::f32, {4}, a}});
  ladle::save_safetensors(dir / "b.safetensors", {{"w", D::f32, {2}, b}});
  std::string msg;
  try {
    ladle::average_safetensors({dir / "a.safetensors", dir / "b.safetensors"}, dir / "o.safetensors");
  } catch (const ladle::invalid_argument& e) {
    msg = e.what();
  }
  CHECK(msg.find("ladle::average_safetensors") == 0);
  CHECK(msg.find("tensor 'w': model '" + dir / "a.safetensors" + "' has shape [4], model '" +
                 dir / "b.safetensors" + "' has [2]") != std::string::npos);
  CHECK(::access((dir / "o.safetensors").c_str(), F_OK) != 0);
  msg.clear();
  try {
    ladle::average_safetensors({dir / "a.safetensors", dir / "model.pt"}, dir / "o.safetensors");
  } catch (const ladle::invalid_argument& e) {
    msg = e.what();
  }
  CHECK(msg.find("arbitrary code") != std::string::npos);
  msg.clear();
  try {
    ladle::average_safetensors({dir / "a.safetensors"}, dir / "o.bin");
  } catch (const ladle::invalid_argument& e) {
    msg = e.what();
  }
  CHECK(msg.find("must end in .safetensors") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
