// safetensors reader/writer: interop with an independent Python reader/writer
// (tests/io/fixtures/safetensors_py.py), a malformed-file corpus, atomic writes, shards.
#include "ladle/io/safetensors.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <unistd.h>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

#ifndef LADLE_IO_TEST_DIR
#  error "LADLE_IO_TEST_DIR must name tests/io"
#endif

namespace {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/ladle_io_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~temp_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.push_back(e->d_name);
      ::closedir(d);
    }
    return out;
  }
};

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(std::uint64_t n) {
  std::string s(8, '\0');
  for (int k = 0; k < 8; ++k) s[k] = static_cast<char>(n >> (8 * k));
  return s;
}

// A file image from a header text and a data section of `data_bytes` bytes.
std::string image(const std::string& header, std::size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\x01');
}

std::uint16_t bf16_bits_truncated(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<std::uint16_t>(u >> 16);
}

// The formulas of safetensors_py.py expected().
struct fixture_values {
  std::vector<float> weight, bf16_src;
  std::vector<double> bias;
  std::vector<float> half_vec;
  std::vector<std::uint8_t> odd;
  fixture_values() {
    for (int i = 0; i < 12; ++i) weight.push_back(static_cast<float>(i) * 0.25f - 1.0f);
    for (int i = 0; i < 3; ++i) bias.push_back(i / 3.0);
    for (int i = 0; i < 5; ++i) half_vec.push_back((i - 2) * 0.5f);
    bf16_src = {1.0f, -2.5f, 0.15625f, 3.0e38f, -0.0f};
    for (int i = 0; i < 7; ++i) odd.push_back(static_cast<std::uint8_t>(3 * i));
  }
};

// Writes the fixture's tensors with ladle (same formulas as the Python side).
void write_fixture_with_ladle(const std::string& path) {
  fixture_values v;
  std::vector<ladle::half> h;
  for (float x : v.half_vec) h.push_back(ladle::half(x));
  std::vector<std::uint16_t> b;
  for (float x : v.bf16_src) b.push_back(bf16_bits_truncated(x));
  const std::int64_t scalar = 1234567890123;
  const bool mask[3] = {true, false, true};
  using D = ladle::safetensors_dtype;
  ladle::save_safetensors(path,
                          {{"bytes.odd", D::u8, {7}, v.odd.data()},  // odd length first: layout must reorder
                           {"linear.weight", D::f32, {3, 4}, v.weight.data()},
                           {"linear.bias", D::f64, {3}, v.bias.data()},
                           {"half.vec", D::f16, {5}, h.data()},
                           {"bf16.vec", D::bf16, {5}, b.data()},
                           {"bn.num_batches_tracked", D::i64, {}, &scalar},
                           {"mask", D::boolean, {3}, mask},
                           {"empty", D::f32, {0, 4}, nullptr}},
                          {{"format", "pt"}, {"note", "written by ladle \xE2\x9C\x93"}});
}

void check_fixture(const ladle::safetensors_file& f) {
  fixture_values v;
  CHECK(f.tensors().size() == 8);
  auto w = f.view<float, 2>("linear.weight");
  REQUIRE(w.extent(0) == 3);
  REQUIRE(w.extent(1) == 4);
  for (int i = 0; i < 12; ++i) CHECK(w.data()[i] == v.weight[i]);
  auto bias = f.view<double, 1>("linear.bias");
  for (int i = 0; i < 3; ++i) CHECK(bias(i) == v.bias[i]);
  auto h = f.view<ladle::half, 1>("half.vec");
  for (int i = 0; i < 5; ++i) CHECK(static_cast<float>(h(i)) == v.half_vec[i]);
  auto b = f.flat_view<ladle::bfloat16>("bf16.vec");
  for (int i = 0; i < 5; ++i) {
    std::uint16_t bits;
    std::memcpy(&bits, &b.data()[i], 2);
    CHECK(bits == bf16_bits_truncated(v.bf16_src[i]));
  }
  const auto& s = f.at("bn.num_batches_tracked");
  CHECK(s.shape.empty());
  CHECK(s.elements() == 1);
  CHECK(f.flat_view<std::int64_t>("bn.num_batches_tracked")(0) == 1234567890123);
  auto odd = f.view<std::uint8_t, 1>("bytes.odd");
  for (int i = 0; i < 7; ++i) CHECK(odd(i) == v.odd[i]);
  auto mask = f.view<bool, 1>("mask");
  CHECK(mask(0));
  CHECK(!mask(1));
  CHECK(mask(2));
  const auto& e = f.at("empty");
  CHECK(e.bytes() == 0);
  CHECK(f.view<float, 2>("empty").extent(0) == 0);
  // Data order: tensors listed by offset, tiling the data section.
  std::uint64_t cursor = 0;
  for (const auto& t : f.tensors()) {
    CHECK(t.begin == cursor);
    cursor = t.end;
  }
  CHECK(cursor == f.header().data_bytes);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ladle::invalid_argument& e) {
    return e.what();
  } catch (const ladle::error& e) {
    return std::string("WRONG TYPE: ") + e.what();
  }
  return "NO ERROR";
}

bool have_python_numpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

}  // namespace

TEST_CASE("safetensors: reads a file written by a plain Python writer") {
  const auto f = ladle::safetensors_file::open(LADLE_IO_TEST_DIR "/fixtures/python_written.safetensors");
  check_fixture(f);
  CHECK(f.metadata().at("source") == "safetensors_py.py");
  CHECK(f.header().data_begin % 8 == 0);
}

TEST_CASE("safetensors: a file ladle writes reads back and parses with the Python reader") {
  temp_dir dir;
  const std::string path = dir / "ladle.safetensors";
  write_fixture_with_ladle(path);
  CHECK(dir.list() == std::vector<std::string>{"ladle.safetensors"});  // no temporary left
  const auto f = ladle::safetensors_file::open(path);
  check_fixture(f);
  CHECK(f.metadata().at("note") == "written by ladle \xE2\x9C\x93");
  CHECK(f.header().data_begin % 8 == 0);
  for (const auto& t : f.tensors())  // each tensor aligned to its element size
    CHECK((f.header().data_begin + t.begin) % ladle::safetensors_dtype_size(t.dtype) == 0);
  if (!have_python_numpy()) {
    MESSAGE("python3 with numpy not found: Python-side check skipped");
    return;
  }
  const std::string cmd = "/usr/bin/python3 " LADLE_IO_TEST_DIR "/fixtures/safetensors_py.py read '" + path + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("safetensors: round trip through the Python writer of a ladle-written file's values") {
  if (!have_python_numpy()) return;
  temp_dir dir;
  const std::string path = dir / "py.safetensors";
  const std::string cmd = "/usr/bin/python3 " LADLE_IO_TEST_DIR "/fixtures/safetensors_py.py write '" + path + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  check_fixture(ladle::safetensors_file::open(path));
}

TEST_CASE("safetensors: writer alignment option and header padding") {
  temp_dir dir;
  const float x[3] = {1, 2, 3};
  for (std::uint64_t a : {8u, 64u, 4096u}) {
    ladle::safetensors_write_options opt;
    opt.alignment = a;
    ladle::save_safetensors(dir / "a.safetensors", {{"x", ladle::safetensors_dtype::f32, {3}, x}},
                            {}, opt);
    const auto f = ladle::safetensors_file::open(dir / "a.safetensors");
    CHECK(f.header().data_begin % a == 0);
    CHECK(f.view<float, 1>("x")(2) == 3.0f);
  }
  ladle::safetensors_write_options bad;
  bad.alignment = 12;
  CHECK(error_of([&] { ladle::save_safetensors(dir / "b.safetensors", {}, {}, bad); })
            .find("'options.alignment' must be a power of two") != std::string::npos);
}

TEST_CASE("safetensors: malformed files each give a clear error naming file and tensor") {
  temp_dir dir;
  struct bad_case {
    const char* name;
    std::string bytes;
    const char* expect;  // substring of the message
    const char* tensor;  // tensor the message must name, or nullptr
  };
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  std::string non_utf8 = R"({"a)" "\xFF" R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  std::string surrogate = R"({"a)" "\xED\xA0\x80" R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const std::vector<bad_case> cases = {
      {"empty", "", "truncated: 0 bytes", nullptr},
      {"short_prefix", std::string("\x10\0\0", 3), "truncated: 3 bytes", nullptr},
      {"header_truncated", le64(100) + "{\"a\":", "truncated: header length 100", nullptr},
      {"huge_header", le64(std::uint64_t(1) << 40) + "{}", "exceeds the limit of 100000000", nullptr},
      {"data_truncated", image("{" + ok_entry + "}", 5), "run past the data section", "a"},
      {"end_before_begin", image(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4),
       "end before begin", "a"},
      {"overlap", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "overlap the previous tensor", "b"},
      {"gap", image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12),
       "leave a gap after byte 4", "b"},
      {"not_from_zero", image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "leave a gap after byte 0", "a"},
      {"trailing", image("{" + ok_entry + "}", 9), "cover 8 bytes of the 9-byte data section", nullptr},
      {"unknown_dtype", image(R"({"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", 1),
       "unknown dtype 'F7'", "a"},
      {"non_utf8", image(non_utf8, 1), "not valid UTF-8 (byte offset 11)", nullptr},
      {"surrogate", image(surrogate, 1), "not valid UTF-8", nullptr},
      {"shape_mismatch", image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       "shape x dtype size is 12 bytes but data_offsets span 8 bytes", "a"},
      {"shape_overflow",
       image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
       "overflows 64 bits", "a"},
      {"bytes_overflow",
       image(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
       "overflows 64 bits", "a"},
      {"negative_shape", image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "non-negative integers", "a"},
      {"float_shape", image(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
       "non-negative integers", "a"},
      {"bad_offsets_type", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
       "'data_offsets' must be [begin, end]", "a"},
      {"missing_field", image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "needs 'dtype'", "a"},
      {"extra_field",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offset":3}})", 8),
       "unknown field 'offset'", "a"},
      {"duplicate_tensor", image("{" + ok_entry + "," + ok_entry + "}", 8), "repeats the key 'a'", nullptr},
      {"not_json", image("{\"a\":", 0), "not valid JSON", nullptr},
      {"not_object", image("[1,2]   ", 0), "does not start with '{'", nullptr},
      {"metadata_not_string", image(R"({"__metadata__":{"k":1}})", 0),
       "'__metadata__' entry 'k' is not a string", nullptr},
      {"entry_not_object", image(R"({"a":[1]})", 0), "entry is not an object", "a"},
      {"pickle", std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8", 12),
       "arbitrary code", nullptr},
      {"zip", std::string("PK\x03\x04\x14\0\0\0\x08\0", 10), "arbitrary code", nullptr},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const std::string path = dir / (std::string(c.name) + ".safetensors");
    write_all(path, c.bytes);
    const std::string msg = error_of([&] { ladle::safetensors_file::open(path); });
    CAPTURE(msg);
    CHECK(msg.find("ladle::safetensors_file::open") == 0);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(c.expect) != std::string::npos);
    if (c.tensor) CHECK(msg.find(std::string("tensor '") + c.tensor + "'") != std::string::npos);
    // the in-memory parser agrees
    const std::string msg2 = error_of([&] { ladle::parse_safetensors(c.bytes.data(), c.bytes.size(), "mem"); });
    CHECK(msg2.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("safetensors: a header within a custom limit, and one just over it") {
  const std::string h = R"({"__metadata__":{"k":"v"}})";
  const std::string img = image(h, 0);
  ladle::safetensors_limits lim;
  lim.max_header_bytes = h.size();
  CHECK(ladle::parse_safetensors(img.data(), img.size(), "m", lim).metadata.at("k") == "v");
  lim.max_header_bytes = h.size() - 1;
  CHECK(error_of([&] { ladle::parse_safetensors(img.data(), img.size(), "m", lim); })
            .find("exceeds the limit") != std::string::npos);
}

TEST_CASE("safetensors: pickle checkpoints are refused by name before reading") {
  temp_dir dir;
  for (const char* name : {"pytorch_model.bin", "model.pt", "model.pth", "last.ckpt"}) {
    const std::string path = dir / name;  // does not even exist: refused by its name
    const std::string msg = error_of([&] { ladle::safetensors_file::open(path); });
    CHECK(msg.find("never reads pickle") != std::string::npos);
    CHECK(msg.find("arbitrary code") != std::string::npos);
  }
  write_all(dir / "pytorch_model.bin", "x");
  CHECK(error_of([&] { ladle::safetensors_checkpoint::open(dir.path); }).find("arbitrary code") !=
        std::string::npos);
}

TEST_CASE("safetensors: a valid header whose length prefix starts like a pickle is still read") {
  // N = 0x0280 = 640: first bytes 0x80 0x02 (the pickle protocol-2 opcode) but byte 8 is '{'.
  std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  h.append(640 - h.size(), ' ');
  const std::string img = image(h, 1);
  REQUIRE(static_cast<unsigned char>(img[0]) == 0x80);
  REQUIRE(static_cast<unsigned char>(img[1]) == 0x02);
  CHECK(ladle::parse_safetensors(img.data(), img.size(), "m").tensors.size() == 1);
}

TEST_CASE("safetensors: typed views check dtype, rank and alignment") {
  temp_dir dir;
  const std::string path = dir / "v.safetensors";
  write_fixture_with_ladle(path);
  const auto f = ladle::safetensors_file::open(path);
  std::string m = error_of([&] { f.view<double, 2>("linear.weight"); });
  CHECK(m.find("tensor 'linear.weight': dtype is F32, the view asks for F64") != std::string::npos);
  m = error_of([&] { f.view<float, 1>("linear.weight"); });
  CHECK(m.find("rank is 2, the view asks for 1") != std::string::npos);
  m = error_of([&] { f.at("nope"); });
  CHECK(m.find("has no tensor 'nope'") != std::string::npos);
  CHECK(m.find(path) != std::string::npos);
  // An unpadded file (legal) whose data starts at an odd offset: bytes readable, views refused.
  const std::string h = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";  // 54 bytes
  REQUIRE((8 + h.size()) % 4 != 0);
  float one = 1.0f;
  std::string img = le64(h.size()) + h + std::string(reinterpret_cast<const char*>(&one), 4);
  write_all(dir / "u.safetensors", img);
  const auto u = ladle::safetensors_file::open(dir / "u.safetensors");
  float got = 0;
  std::memcpy(&got, u.data(u.at("w")), 4);
  CHECK(got == 1.0f);
  CHECK(error_of([&] { u.view<float, 1>("w"); }).find("not aligned") != std::string::npos);
}

TEST_CASE("safetensors_writer: streams in pieces, refuses misuse, never leaves partial files") {
  temp_dir dir;
  const std::string path = dir / "w.safetensors";
  write_all(path, "old content");
  using D = ladle::safetensors_dtype;
  std::vector<float> a(1000 + 5);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.5f;
  {
    ladle::safetensors_writer w(path, {{"a", D::f32, {1005}}, {"b", D::i32, {2}}});
    w.write("a", a.data(), 400);
    w.write("a", reinterpret_cast<const char*>(a.data()) + 400, 4020 - 400);
    CHECK(error_of([&] { w.write("a", a.data(), 1); }).find("would exceed its 4020 bytes") !=
          std::string::npos);
    CHECK(error_of([&] { w.write("zzz", a.data(), 1); }).find("'zzz' is not a tensor") !=
          std::string::npos);
    CHECK(error_of([&] { w.commit(); }).find("tensor 'b' of '" + path + "' has 0 of its 8 bytes") !=
          std::string::npos);
    // destroyed without commit: the old file stays, the temporary is gone
  }
  CHECK(read_all(path) == "old content");
  CHECK(dir.list().size() == 1);
  {
    ladle::safetensors_writer w(path, {{"a", D::f32, {1005}}, {"b", D::i32, {2}}});
    const std::int32_t b[2] = {-7, 9};
    w.write("b", b, 8);
    w.write("a", a.data(), 4020);
    w.commit();
    CHECK(error_of([&] { w.commit(); }).find("already committed") != std::string::npos);
  }
  const auto f = ladle::safetensors_file::open(path);
  const auto va = f.view<float, 1>("a");
  for (int i = 0; i < 1005; ++i) REQUIRE(va(i) == a[i]);
  CHECK(f.view<std::int32_t, 1>("b")(0) == -7);
  CHECK(dir.list().size() == 1);
  // spec errors
  CHECK(error_of([&] { ladle::safetensors_writer(dir / "x", {{"a", D::f32, {1}}, {"a", D::f32, {1}}}); })
            .find("tensor name 'a' appears twice") != std::string::npos);
  CHECK(error_of([&] { ladle::safetensors_writer(dir / "x", {{"a", D::f32, {-1}}}); })
            .find("negative extent -1") != std::string::npos);
  CHECK(error_of([&] { ladle::safetensors_writer(dir / "x", {{"__metadata__", D::f32, {1}}}); })
            .find("may not be named '__metadata__'") != std::string::npos);
  CHECK(error_of([&] { ladle::safetensors_writer(dir / "x", {{"a\xFF", D::f32, {1}}}); })
            .find("not valid UTF-8") != std::string::npos);
  CHECK(error_of([&] {
          ladle::safetensors_writer(dir / "x", {{"a", D::f64, {std::int64_t(1) << 62, 8}}});
        }).find("overflows 64 bits") != std::string::npos);
  CHECK(dir.list().size() == 1);
  // an unwritable folder is a runtime_error naming the path
  bool runtime = false;
  try {
    ladle::safetensors_writer(dir / "no/such/folder/x.safetensors", {});
  } catch (const ladle::runtime_error& e) {
    runtime = std::string(e.what()).find("no/such/folder") != std::string::npos;
  }
  CHECK(runtime);
}

TEST_CASE("safetensors: sharded checkpoints write an index and read back through it") {
  temp_dir dir;
  using D = ladle::safetensors_dtype;
  std::vector<std::vector<float>> data(5);
  std::vector<ladle::safetensors_tensor_spec> specs;
  for (int t = 0; t < 5; ++t) {
    data[t].resize(100 + t);
    for (std::size_t i = 0; i < data[t].size(); ++i) data[t][i] = static_cast<float>(t * 1000 + i);
    specs.push_back({"layer" + std::to_string(t) + ".weight", D::f32, {100 + t}});
  }
  const std::int64_t step = 42;
  specs.push_back({"step", D::i64, {}});
  ladle::safetensors_shard_options opt;
  opt.max_shard_bytes = 1000;  // 400..416-byte float tensors: two per shard
  ladle::safetensors_sharded_writer w(dir / "ckpt", specs, {{"format", "pt"}}, opt);
  // layout order: the I64 scalar (8-byte elements) first, then the floats; 8+400+404 > 1000
  CHECK(w.shard_names() == std::vector<std::string>{"model-00001-of-00003.safetensors",
                                                    "model-00002-of-00003.safetensors",
                                                    "model-00003-of-00003.safetensors"});
  CHECK(w.shard_of("step") == "model-00001-of-00003.safetensors");
  CHECK(w.shard_of("layer2.weight") == "model-00002-of-00003.safetensors");
  for (int t = 0; t < 5; ++t)
    w.write("layer" + std::to_string(t) + ".weight", data[t].data(), data[t].size() * 4);
  w.write("step", &step, 8);
  w.commit();
  CHECK(w.checkpoint_path() == dir / "ckpt/model.safetensors.index.json");
  for (const std::string& p : {dir / "ckpt", dir / "ckpt/model.safetensors.index.json"}) {
    const auto c = ladle::safetensors_checkpoint::open(p);
    CHECK(c.files().size() == 3);
    CHECK(c.tensors().size() == 6);
    CHECK(c.metadata().at("format") == "pt");
    for (int t = 0; t < 5; ++t) {
      const auto& e = c.at("layer" + std::to_string(t) + ".weight");
      const auto v = e.file->flat_view<float>(e.tensor->name);
      REQUIRE(v.size() == 100 + t);
      for (int i = 0; i < 100 + t; ++i) REQUIRE(v(i) == data[t][i]);
    }
    CHECK(c.at("step").file->flat_view<std::int64_t>("step")(0) == 42);
  }
  // The index is plain JSON with total_size and weight_map.
  const std::string idx = read_all(dir / "ckpt/model.safetensors.index.json");
  CHECK(idx.find("\"total_size\": " + std::to_string(8 + 4 * (100 + 101 + 102 + 103 + 104))) !=
        std::string::npos);
  CHECK(idx.find("\"layer4.weight\": \"model-00003-of-00003.safetensors\"") != std::string::npos);

  // Broken indexes.
  const std::string ipath = dir / "ckpt/model.safetensors.index.json";
  auto with_index = [&](const std::string& text) {
    write_all(ipath, text);
    return error_of([&] { ladle::safetensors_checkpoint::open(ipath); });
  };
  std::string m = with_index(R"({"weight_map":{"step":"../x.safetensors"}})");
  CHECK(m.find("tensor 'step': shard '../x.safetensors' is not a plain file name") != std::string::npos);
  m = with_index(R"({"weight_map":{"step":"model-00002-of-00003.safetensors"}})");
  CHECK(m.find("tensor 'step': weight_map names shard") != std::string::npos);
  m = with_index(R"({"weight_map":{"step":"model-00001-of-00003.safetensors"}})");
  CHECK(m.find("but not in the weight_map") != std::string::npos);
  m = with_index(R"({"metadata":{}})");
  CHECK(m.find("no 'weight_map' object") != std::string::npos);
  m = with_index(R"({"weight_map":{"w":"pytorch_model-00001-of-00002.bin"}})");
  CHECK(m.find("arbitrary code") != std::string::npos);
}

TEST_CASE("safetensors: a checkpoint that fits one shard is a single file without index") {
  temp_dir dir;
  const float x[2] = {1, 2};
  ladle::safetensors_sharded_writer w(dir / "one", {{"x", ladle::safetensors_dtype::f32, {2}}});
  w.write("x", x, 8);
  w.commit();
  CHECK(w.shard_names() == std::vector<std::string>{"model.safetensors"});
  CHECK(w.checkpoint_path() == dir / "one/model.safetensors");
  const auto c = ladle::safetensors_checkpoint::open(dir / "one");
  CHECK(c.path() == dir / "one/model.safetensors");
  CHECK(c.at("x").file->flat_view<float>("x")(1) == 2.0f);
  // a tensor larger than the shard limit gets a shard of its own
  ladle::safetensors_shard_options opt;
  opt.max_shard_bytes = 4;
  ladle::safetensors_sharded_writer big(dir / "big", {{"x", ladle::safetensors_dtype::f32, {2}},
                                                      {"y", ladle::safetensors_dtype::f32, {1}}},
                                        {}, opt);
  CHECK(big.shard_names().size() == 2);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
