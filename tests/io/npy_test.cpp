// .npy reading and writing against files NumPy 1.24 wrote (fixtures/make_npy_fixtures.py).
#include <ladle/io/npy.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

const std::string fixtures = LADLE_IO_FIXTURES;

std::string fixture(const char* name) { return fixtures + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A scratch folder per test process, removed when the process exits.
struct scratch_dir {
  std::string path = "npy_test_scratch." + std::to_string(::getpid());
  scratch_dir() { REQUIRE(std::system(("mkdir -p " + path).c_str()) == 0); }
  ~scratch_dir() { (void)std::system(("rm -rf " + path).c_str()); }
};

std::string scratch(const char* name) {
  static const scratch_dir dir;
  return dir.path + "/" + name;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ladle::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<double> m23 = {-0.625, -0.375, -0.125, 0.125, 0.375, 0.625};

}  // namespace

TEST_CASE("npy: reads float32, float64, int32, int64 in versions 1, 2 and 3") {
  {
    ladle::npy_file f(fixture("f4_2x3_v1.npy"));
    CHECK(f.header().version == 1);
    CHECK(f.header().dtype == ladle::npy_dtype::float32);
    CHECK(f.header().shape == std::vector<ladle::index_t>{2, 3});
    CHECK(f.header().data_offset % 64 == 0);
    std::vector<double> v(6);
    f.copy_to(v.data(), 6);
    CHECK(v == m23);
  }
  {
    ladle::npy_file f(fixture("f8_2x3_v2.npy"));
    CHECK(f.header().version == 2);
    CHECK(f.header().dtype == ladle::npy_dtype::float64);
    std::vector<float> v(6);
    f.copy_to(v.data(), 6);
    for (int i = 0; i < 6; ++i) CHECK(v[i] == static_cast<float>(m23[i]));
  }
  {
    ladle::npy_file f(fixture("i4_5_v3.npy"));
    CHECK(f.header().version == 3);
    CHECK(f.header().shape == std::vector<ladle::index_t>{5});
    std::vector<std::int64_t> v(5);
    f.copy_to(v.data(), 5);
    CHECK(v == std::vector<std::int64_t>{3, -1, 0, 2147483647, -2147483648LL});
  }
  {
    ladle::npy_file f(fixture("i8_2x2x2_v1.npy"));
    CHECK(f.header().shape == std::vector<ladle::index_t>{2, 2, 2});
    std::vector<std::int64_t> v(8);
    f.copy_to(v.data(), 8);
    for (int i = 0; i < 8; ++i) CHECK(v[i] == i * 1000000000007LL);
    // Values beyond int32 are refused, naming the element.
    std::vector<std::int32_t> narrow(8);
    CHECK(error_of([&] { f.copy_to(narrow.data(), 8); }).find("element 1 = 1000000000007") !=
          std::string::npos);
  }
  {
    ladle::npy_file f(fixture("f8_scalar_v1.npy"));
    CHECK(f.header().shape.empty());
    CHECK(f.header().size() == 1);
    double v = 0;
    f.copy_to(&v, 1);
    CHECK(v == 1.5);
  }
  {
    ladle::npy_file f(fixture("f4_empty_v1.npy"));
    CHECK(f.header().shape == std::vector<ladle::index_t>{0, 4});
    CHECK(f.header().size() == 0);
  }
}

TEST_CASE("npy: float values that are not integers are refused as labels") {
  ladle::npy_file f(fixture("f8_labels_v1.npy"));
  std::vector<std::int64_t> y(4);
  const std::string msg = error_of([&] { f.copy_to(y.data(), 4); });
  CHECK(msg.find("f8_labels_v1.npy") != std::string::npos);
  CHECK(msg.find("element 3 = 1.5") != std::string::npos);
  std::vector<std::int64_t> first(3);
  f.copy_to(first.data(), 3);
  CHECK(first == std::vector<std::int64_t>{0, 1, 2});
}

TEST_CASE("npy: unsupported files are refused with the file and the reason") {
  struct bad { const char* file; const char* says; };
  for (const bad& b : {bad{"f8_fortran_v1.npy", "Fortran (column-major) order"},
                       bad{"f4_bigendian_v1.npy", "big-endian (dtype '>f4')"},
                       bad{"u1_v1.npy", "dtype '|u1'"},
                       bad{"structured_v1.npy", "structured array"},
                       bad{"truncated_v2.npy", "truncated: its shape needs 48 bytes of data but the file has 40"},
                       bad{"make_npy_fixtures.py", "not an .npy file"},
                       bad{"does_not_exist.npy", "No such file"}}) {
    CAPTURE(b.file);
    const std::string msg = error_of([&] { ladle::npy_file f(fixture(b.file)); });
    CHECK(msg.find(b.says) != std::string::npos);
    CHECK(msg.find(b.file) != std::string::npos);
  }
}

TEST_CASE("npy: malformed headers never read out of bounds") {
  const std::string good = slurp(fixture("f4_2x3_v1.npy"));
  // Every truncation of a valid file is refused (header or data too short).
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(ladle::parse_npy_header(
                        reinterpret_cast<const unsigned char*>(good.data()), n, "cut"),
                    ladle::runtime_error);
  }
  // A shape whose byte count overflows.
  std::string huge = ladle::npy_header_bytes(ladle::npy_dtype::float64, {1});
  const auto at = huge.find("(1,)");
  huge.replace(at, 4, "(4611686018427387904, 8)");
  CHECK(error_of([&] {
          ladle::parse_npy_header(reinterpret_cast<const unsigned char*>(huge.data()),
                                      huge.size(), "huge");
        }).find("more than 2^64") != std::string::npos);
}

TEST_CASE("npy: save_npy writes the bytes NumPy writes, atomically, refusing to overwrite") {
  std::vector<float> f4(m23.begin(), m23.end());
  const std::string out = scratch("f4.npy");
  ladle::save_npy(out, ladle::make_view(f4.data(), {2, 3}));
  CHECK(slurp(out) == slurp(fixture("f4_2x3_v1.npy")));

  std::vector<std::int32_t> i4 = {3, -1, 0, 2147483647, -2147483647 - 1};
  const std::string out_i4 = scratch("i4.npy");
  ladle::save_npy(out_i4, ladle::make_view(i4.data(), 5));
  ladle::npy_file back(out_i4);
  std::vector<std::int32_t> r(5);
  back.copy_to(r.data(), 5);
  CHECK(r == i4);
  CHECK(back.header().version == 1);

  // Scalars and 3-d shapes are spelled as NumPy spells them.
  CHECK(ladle::npy_header_bytes(ladle::npy_dtype::float64, {}) ==
        slurp(fixture("f8_scalar_v1.npy")).substr(0, 128));
  CHECK(ladle::npy_header_bytes(ladle::npy_dtype::int64, {2, 2, 2}) ==
        slurp(fixture("i8_2x2x2_v1.npy")).substr(0, 128));

  // An existing file is refused and left as it was; overwrite replaces it.
  std::vector<float> other = {1, 2};
  CHECK(error_of([&] { ladle::save_npy(out, ladle::make_view(other.data(), 2)); })
            .find("already exists") != std::string::npos);
  CHECK(slurp(out) == slurp(fixture("f4_2x3_v1.npy")));
  ladle::save_npy(out, ladle::make_view(other.data(), 2), /*overwrite=*/true);
  ladle::npy_file again(out);
  CHECK(again.header().shape == std::vector<ladle::index_t>{2});
}

TEST_CASE("npy: a header too long for version 1 switches to version 2") {
  std::vector<ladle::index_t> shape(25000, 1);
  const std::string h = ladle::npy_header_bytes(ladle::npy_dtype::float32, shape);
  CHECK(h[6] == 2);
  CHECK(h.size() % 64 == 0);
  const float one = 1.0f;
  std::string image = h + std::string(reinterpret_cast<const char*>(&one), 4);
  auto parsed = ladle::parse_npy_header(reinterpret_cast<const unsigned char*>(image.data()),
                                            image.size(), "long");
  CHECK(parsed.shape.size() == 25000);
  CHECK(parsed.data_offset == h.size());
}

TEST_CASE("atomic_file_writer: an abandoned write leaves no file behind") {
  const std::string out = scratch("abandoned.bin");
  std::string temp;
  {
    ladle::atomic_file_writer w(out, false);
    w.write("partial");
    temp = w.temporary_path();
    CHECK(ladle::detail::file_exists(temp));
    CHECK_FALSE(ladle::detail::file_exists(out));
  }
  CHECK_FALSE(ladle::detail::file_exists(temp));
  CHECK_FALSE(ladle::detail::file_exists(out));
  CHECK(error_of([&] { ladle::atomic_file_writer w("no/such/folder/x.bin", false); })
            .find("no/such/folder/.x.bin.ladle-tmp") !=
        std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
