// ladle/io/npy.hpp: NumPy .npy files (format versions 1.0, 2.0 and 3.0), read and write.
//
// Supported arrays: dtype float32, float64, int32 or int64, little-endian, C (row-major) order,
// any rank (0 = a scalar). Anything else is refused with a message saying what was found and how
// to convert it (`np.ascontiguousarray(a, dtype='<f4')`): Fortran order, big-endian, other dtypes,
// structured arrays, object arrays, truncated data.
//
//   npy_file f(path);            memory-maps the file; f.header() has dtype and shape,
//                                f.data() points at the first element (no copy). Mapping keeps
//                                reading big arrays cheap: pages load as they are touched.
//   f.copy_to(out, n)            converts the elements to float/double/int32/int64 (an integer
//                                target refuses non-integral or out-of-range values, naming the
//                                element's flat index).
//   save_npy(path, view)         writes a contiguous float/double/int32/int64 view atomically
//                                (io/file.hpp: temporary in the target folder, then rename),
//                                refusing an existing file unless overwrite is set. Headers are
//                                version 1.0 unless the shape needs more than 65535 header bytes
//                                (then 2.0), padded with spaces so the data start is 64-byte
//                                aligned, as NumPy itself writes them.
//
// Errors: ladle::runtime_error naming the function, the file and the problem; nothing is written
// on error. Memory: reading maps the file (no copy); writing streams the view.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"
#include "ladle/io/file.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace ladle {


/// The element types .npy support covers.
enum class npy_dtype : std::uint8_t { float32, float64, int32, int64 };

/// "float32", "float64", "int32", "int64".
inline const char* npy_dtype_name(npy_dtype t) noexcept;
/// Bytes per element.
inline std::size_t npy_dtype_size(npy_dtype t) noexcept;
/// The npy_dtype of a C++ element type (float, double, int32_t, int64_t).
template <class T>
constexpr npy_dtype npy_dtype_of() noexcept;

/// What an .npy header says.
struct npy_header {
  int version = 1;                 ///< format major version (1, 2 or 3)
  npy_dtype dtype = npy_dtype::float64;
  std::vector<index_t> shape;      ///< empty for a scalar
  std::size_t data_offset = 0;     ///< byte offset of the first element
  index_t size() const noexcept {  ///< number of elements
    index_t n = 1;
    for (index_t e : shape) n *= e;
    return n;
  }
  std::size_t bytes() const noexcept { return static_cast<std::size_t>(size()) * npy_dtype_size(dtype); }
};

/// Parses the header at the start of `bytes` (n bytes of an .npy image); `source` names the file
/// in error messages. Checks the magic, version, dtype, order, shape and that the data fit in n.
inline npy_header parse_npy_header(const unsigned char* bytes, std::size_t n,
                                   const std::string& source);

/// A memory-mapped .npy file.
class npy_file {
 public:
  explicit npy_file(const std::string& path)
      : file_(path, "npy_file"), header_(parse_npy_header(file_.data(), file_.size(), path)) {}
  const npy_header& header() const noexcept { return header_; }
  const std::string& path() const noexcept { return file_.path(); }
  /// The raw little-endian elements (header().bytes() of them).
  const unsigned char* data() const noexcept { return file_.data() + header_.data_offset; }
  /// Converts the first n elements (n <= size()) into out.
  template <class T>
  void copy_to(T* out, index_t n) const;

 private:
  mapped_file file_;
  npy_header header_;
};

/// The header bytes (magic .. padding) for an array of this dtype and shape.
inline std::string npy_header_bytes(npy_dtype dtype, const std::vector<index_t>& shape);

/// Writes raw little-endian elements as an .npy file, atomically.
inline void save_npy(const std::string& path, npy_dtype dtype, const std::vector<index_t>& shape,
                     const void* data, bool overwrite = false);

/// Writes a contiguous view (float, double, int32_t or int64_t) as an .npy file, atomically.
template <class T, std::size_t R>
void save_npy(const std::string& path, tensor_view<T, R> x, bool overwrite = false) {
  using E = std::remove_const_t<T>;
  detail::require_host(x, "save_npy", "x");
  if (!x.is_contiguous())
    throw_invalid_argument("save_npy", "x", "must be contiguous (row-major)");
  std::vector<index_t> shape(x.extents().begin(), x.extents().end());
  save_npy(path, npy_dtype_of<E>(), shape, static_cast<const void*>(x.data()), overwrite);
}

// ---- implementation -------------------------------------------------------------------------

inline const char* npy_dtype_name(npy_dtype t) noexcept {
  switch (t) {
    case npy_dtype::float32: return "float32";
    case npy_dtype::float64: return "float64";
    case npy_dtype::int32: return "int32";
    case npy_dtype::int64: return "int64";
  }
  return "?";
}

inline std::size_t npy_dtype_size(npy_dtype t) noexcept {
  return (t == npy_dtype::float32 || t == npy_dtype::int32) ? 4 : 8;
}

template <class T>
constexpr npy_dtype npy_dtype_of() noexcept {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value ||
                    std::is_same<T, std::int32_t>::value || std::is_same<T, std::int64_t>::value,
                "ladle::io: .npy supports float, double, int32_t and int64_t elements");
  return std::is_same<T, float>::value    ? npy_dtype::float32
         : std::is_same<T, double>::value ? npy_dtype::float64
         : std::is_same<T, std::int32_t>::value ? npy_dtype::int32
                                                : npy_dtype::int64;
}

namespace detail {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "ladle::io: IEEE float and double");

inline bool host_is_little_endian() noexcept {
  const std::uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

/// A cursor over the header's Python dict literal: {'descr': '<f4', 'fortran_order': False,
/// 'shape': (3, 4), }. Only the forms NumPy writes are accepted.
struct npy_dict_parser {
  const std::string& text;
  const std::string& source;
  std::size_t pos = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw_runtime_error("npy_file", "path", "'", source, "' has a malformed .npy header (",
                        what, " at header byte ", pos, ")");
  }
  void skip_space() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n'))
      ++pos;
  }
  bool accept(char c) {
    skip_space();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  std::string string_literal() {
    skip_space();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"')) fail("expected a string");
    const char q = text[pos++];
    const std::size_t end = text.find(q, pos);
    if (end == std::string::npos) fail("unterminated string");
    std::string s = text.substr(pos, end - pos);
    pos = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    if (text.compare(pos, 4, "True") == 0) { pos += 4; return true; }
    if (text.compare(pos, 5, "False") == 0) { pos += 5; return false; }
    fail("expected True or False");
  }
  std::vector<index_t> shape_tuple() {
    expect('(');
    std::vector<index_t> shape;
    while (true) {
      skip_space();
      if (accept(')')) break;
      if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') fail("expected a dimension");
      index_t v = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        const index_t digit = text[pos++] - '0';
        if (v > (std::numeric_limits<index_t>::max() - digit) / 10) fail("dimension too large");
        v = v * 10 + digit;
      }
      if (pos < text.size() && text[pos] == 'L') ++pos;  // Python 2 longs
      shape.push_back(v);
      if (accept(')')) break;
      expect(',');
    }
    return shape;
  }
};

template <class From, class To>
void npy_convert(const unsigned char* src, To* out, index_t n, const std::string& source) {
  for (index_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, src + static_cast<std::size_t>(i) * sizeof(From), sizeof(From));
    if constexpr (std::is_integral<To>::value && std::is_floating_point<From>::value) {
      if (!(std::nearbyint(v) == v) || !(v >= static_cast<From>(std::numeric_limits<To>::min())) ||
          !(v < -static_cast<From>(std::numeric_limits<To>::min())))
        throw_runtime_error("npy_file", "path", "'", source, "' element ", i, " = ", v,
                            " is not an integer value that fits ", sizeof(To) * 8, "-bit labels");
    } else if constexpr (std::is_integral<To>::value && std::is_integral<From>::value) {
      if (v < static_cast<std::int64_t>(std::numeric_limits<To>::min()) ||
          v > static_cast<std::int64_t>(std::numeric_limits<To>::max()))
        throw_runtime_error("npy_file", "path", "'", source, "' element ", i, " = ", v,
                            " does not fit ", sizeof(To) * 8, " bits");
    }
    out[i] = static_cast<To>(v);
  }
}

}  // namespace detail

inline npy_header parse_npy_header(const unsigned char* bytes, std::size_t n,
                                   const std::string& source) {
  const char* fn = "npy_file";
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (n < 10 || std::memcmp(bytes, magic, 6) != 0)
    throw_runtime_error(fn, "path", "'", source, "' is not an .npy file (no \\x93NUMPY magic)");
  npy_header h;
  h.version = bytes[6];
  std::size_t header_len = 0, prefix = 0;
  if (h.version == 1) {
    header_len = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8);
    prefix = 10;
  } else if (h.version == 2 || h.version == 3) {
    if (n < 12) throw_runtime_error(fn, "path", "'", source, "' is truncated inside its header");
    header_len = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8) |
                 (std::size_t(bytes[10]) << 16) | (std::size_t(bytes[11]) << 24);
    prefix = 12;
  } else {
    throw_runtime_error(fn, "path", "'", source, "' has .npy format version ", h.version, ".",
                        int(bytes[7]), ", only 1.0, 2.0 and 3.0 are supported");
  }
  if (header_len > n - prefix)
    throw_runtime_error(fn, "path", "'", source, "' is truncated: its header says ", header_len,
                        " bytes but the file has ", n - prefix, " after the prefix");
  const std::string text(reinterpret_cast<const char*>(bytes + prefix), header_len);
  h.data_offset = prefix + header_len;

  detail::npy_dict_parser p{text, source};
  std::string descr;
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  p.expect('{');
  while (!p.accept('}')) {
    const std::string key = p.string_literal();
    p.expect(':');
    if (key == "descr") {
      p.skip_space();
      if (p.pos < text.size() && text[p.pos] == '[')
        throw_runtime_error(fn, "path", "'", source,
                            "' holds a structured array; only plain float32, float64, int32 and "
                            "int64 arrays are supported");
      descr = p.string_literal();
      have_descr = true;
    } else if (key == "fortran_order") {
      fortran = p.boolean();
      have_order = true;
    } else if (key == "shape") {
      h.shape = p.shape_tuple();
      have_shape = true;
    } else {
      p.fail("unknown key '" + key + "'");
    }
    if (!p.accept(',')) {
      p.expect('}');
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape)
    throw_runtime_error(fn, "path", "'", source,
                        "' has an .npy header without descr, fortran_order and shape");
  if (fortran)
    throw_runtime_error(fn, "path", "'", source,
                        "' is in Fortran (column-major) order; save it in C order, e.g. "
                        "np.save(path, np.ascontiguousarray(a))");
  if (descr.size() >= 2 && descr[0] == '>' && descr != ">i1" && descr != ">u1")
    throw_runtime_error(fn, "path", "'", source, "' is big-endian (dtype '", descr,
                        "'); convert it with a.astype(a.dtype.newbyteorder('<'))");
  if (descr == "<f4") h.dtype = npy_dtype::float32;
  else if (descr == "<f8") h.dtype = npy_dtype::float64;
  else if (descr == "<i4") h.dtype = npy_dtype::int32;
  else if (descr == "<i8") h.dtype = npy_dtype::int64;
  else
    throw_runtime_error(fn, "path", "'", source, "' has dtype '", descr,
                        "'; supported: float32 '<f4', float64 '<f8', int32 '<i4', int64 '<i8'");
  if (!detail::host_is_little_endian())
    throw_runtime_error(fn, "path", "'", source, "': big-endian hosts are not supported");
  // Element count and byte size, overflow-checked: the shape is untrusted input.
  const std::size_t item = npy_dtype_size(h.dtype);
  std::size_t count = 1;
  bool overflow = false;
  for (index_t e : h.shape) {
    const auto u = static_cast<std::size_t>(e);
    if (u != 0 && count > (std::numeric_limits<std::size_t>::max() / item) / u) overflow = true;
    count *= u;
  }
  if (overflow || count > static_cast<std::size_t>(std::numeric_limits<index_t>::max()) ||
      count * item > n - h.data_offset)
    throw_runtime_error(fn, "path", "'", source, "' is truncated: its shape needs ",
                        overflow ? std::string("more than 2^64") : std::to_string(count * item),
                        " bytes of data but the file has ", n - h.data_offset);
  return h;
}

template <class T>
void npy_file::copy_to(T* out, index_t n) const {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value ||
                    std::is_same<T, std::int32_t>::value || std::is_same<T, std::int64_t>::value,
                "ladle::npy_file::copy_to: float, double, int32_t or int64_t");
  if (n < 0 || n > header_.size())
    throw_invalid_argument("npy_file::copy_to", "n", "must be in [0, ", header_.size(),
                           "], got ", n);
  const unsigned char* src = data();
  switch (header_.dtype) {
    case npy_dtype::float32: detail::npy_convert<float>(src, out, n, path()); break;
    case npy_dtype::float64: detail::npy_convert<double>(src, out, n, path()); break;
    case npy_dtype::int32: detail::npy_convert<std::int32_t>(src, out, n, path()); break;
    case npy_dtype::int64: detail::npy_convert<std::int64_t>(src, out, n, path()); break;
  }
}

inline std::string npy_header_bytes(npy_dtype dtype, const std::vector<index_t>& shape) {
  static const char* descr[] = {"<f4", "<f8", "<i4", "<i8"};
  std::string dict = std::string("{'descr': '") + descr[static_cast<int>(dtype)] +
                     "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      throw_invalid_argument("save_npy", "shape", "entry ", i, " is negative: ", shape[i]);
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // Pad with spaces and a final newline so that prefix + header is a multiple of 64 (NumPy's
  // alignment); version 2.0 only when the padded header does not fit a 16-bit length.
  auto padded = [&](std::size_t prefix) { return ((prefix + dict.size() + 1 + 63) / 64) * 64 - prefix; };
  const int version = padded(10) > 65535 ? 2 : 1;
  const std::size_t len = padded(version == 1 ? 10 : 12);
  dict.append(len - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (version == 2) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + dict;
}

inline void save_npy(const std::string& path, npy_dtype dtype, const std::vector<index_t>& shape,
                     const void* data, bool overwrite) {
  if (!detail::host_is_little_endian())
    throw_runtime_error("save_npy", "path", "big-endian hosts are not supported");
  const std::string header = npy_header_bytes(dtype, shape);
  std::size_t count = 1;
  for (index_t e : shape) count *= static_cast<std::size_t>(e);
  atomic_file_writer w(path, overwrite, "save_npy");
  w.write(header);
  w.write(data, count * npy_dtype_size(dtype));
  w.commit();
}


}  // namespace ladle
