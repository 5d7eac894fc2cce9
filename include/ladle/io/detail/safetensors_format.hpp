// ladle/io/detail/safetensors_format.hpp: the safetensors dtype table, a strict UTF-8 check and
// the header parser/validator shared by the memory-mapped reader and the fuzz target.
#pragma once

#include "ladle/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ladle {
namespace detail {

struct st_dtype_row {
  safetensors_dtype dtype;
  const char* name;
  std::uint64_t size;
};

inline constexpr st_dtype_row st_dtype_table[] = {
    {safetensors_dtype::f64, "F64", 8},         {safetensors_dtype::f32, "F32", 4},
    {safetensors_dtype::f16, "F16", 2},         {safetensors_dtype::bf16, "BF16", 2},
    {safetensors_dtype::i64, "I64", 8},         {safetensors_dtype::i32, "I32", 4},
    {safetensors_dtype::i16, "I16", 2},         {safetensors_dtype::i8, "I8", 1},
    {safetensors_dtype::u64, "U64", 8},         {safetensors_dtype::u32, "U32", 4},
    {safetensors_dtype::u16, "U16", 2},         {safetensors_dtype::u8, "U8", 1},
    {safetensors_dtype::boolean, "BOOL", 1},    {safetensors_dtype::f8_e4m3, "F8_E4M3", 1},
    {safetensors_dtype::f8_e5m2, "F8_E5M2", 1},
};

/// Length of the longest valid UTF-8 prefix of [s, s+n) (RFC 3629: no overlongs, no surrogates,
/// nothing above U+10FFFF); equals n when the whole range is valid.
inline std::size_t utf8_valid_prefix(const unsigned char* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // U+D800..U+DFFF are surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return n;
}

inline std::uint64_t load_le_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

/// True when the first bytes look like a pickle stream or a zip archive (torch.save) rather than
/// a safetensors header (whose 9th byte is '{').
inline bool looks_like_pickle(const unsigned char* p, std::size_t n) noexcept {
  if (n >= 9 && p[8] == '{') return false;
  if (n >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4) return true;
  if (n >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5) return true;
  return false;
}

/// Pickle-based checkpoint extensions ladle never opens.
inline bool has_pickle_extension(std::string_view path) noexcept {
  for (std::string_view ext : {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"})
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return true;
  return false;
}

[[noreturn]] inline void refuse_pickle(const char* fn, const std::string& source) {
  throw_invalid_argument(
      fn, "path", "'", source,
      "' is a pickle-based checkpoint (torch.save / .bin / .pt): ladle never reads pickle, because "
      "unpickling runs arbitrary code from the file; convert it to safetensors in a trusted "
      "environment (e.g. safetensors.torch.save_file) and pass that file");
}

template <class... Parts>
[[noreturn]] void st_fail(const char* fn, const std::string& source, const Parts&... parts) {
  throw_invalid_argument(fn, "file", "'", source, "': ", parts...);
}

template <class... Parts>
[[noreturn]] void st_fail_tensor(const char* fn, const std::string& source,
                                 const std::string& tensor, const Parts&... parts) {
  throw_invalid_argument(fn, "file", "'", source, "': tensor '", tensor, "': ", parts...);
}

/// Multiplies with overflow detection (unsigned 64-bit).
inline bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return true;
  out = a * b;
  return false;
}

/// Parses and validates a whole safetensors byte image of `size` bytes (header + data).
inline safetensors_header parse_safetensors_image(const unsigned char* bytes, std::uint64_t size,
                                                  const std::string& source,
                                                  const safetensors_limits& limits,
                                                  const char* fn) {
  if (size < 8)
    st_fail(fn, source, "truncated: ", size,
            " bytes, fewer than the 8-byte little-endian header length");
  if (looks_like_pickle(bytes, static_cast<std::size_t>(std::min<std::uint64_t>(size, 16))))
    refuse_pickle(fn, source);
  const std::uint64_t n = load_le_u64(bytes);
  if (n > limits.max_header_bytes)
    st_fail(fn, source, "header length ", n, " bytes exceeds the limit of ",
            limits.max_header_bytes, " bytes (safetensors_limits::max_header_bytes)");
  if (n > size - 8)
    st_fail(fn, source, "truncated: header length ", n, " bytes but only ", size - 8,
            " bytes follow the length prefix");
  if (n < 2) st_fail(fn, source, "header length ", n, " is too short for a JSON object");
  const unsigned char* text = bytes + 8;
  const std::size_t text_n = static_cast<std::size_t>(n);
  const std::size_t valid = utf8_valid_prefix(text, text_n);
  if (valid != text_n)
    st_fail(fn, source, "header is not valid UTF-8 (byte offset ", 8 + valid, ")");
  if (text[0] != '{') st_fail(fn, source, "header does not start with '{'");

  // Parse; the callback rejects duplicate keys in any object (nlohmann would keep the last).
  std::vector<std::set<std::string>> open_keys;
  std::string duplicate;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using ev = nlohmann::json::parse_event_t;
    if (event == ev::object_start) {
      open_keys.emplace_back();
    } else if (event == ev::object_end) {
      if (!open_keys.empty()) open_keys.pop_back();
    } else if (event == ev::key && !open_keys.empty() && parsed.is_string()) {
      auto& keys = open_keys.back();
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!keys.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(reinterpret_cast<const char*>(text),
                                reinterpret_cast<const char*>(text) + text_n, callback);
  } catch (const nlohmann::json::exception& e) {
    st_fail(fn, source, "header is not valid JSON: ", e.what());
  }
  if (!duplicate.empty()) st_fail(fn, source, "header repeats the key '", duplicate, "'");
  if (!doc.is_object()) st_fail(fn, source, "header is not a JSON object");

  safetensors_header h;
  h.header_bytes = n;
  h.data_begin = 8 + n;
  h.data_bytes = size - 8 - n;
  h.tensors.reserve(doc.size());
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) st_fail(fn, source, "'__metadata__' is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          st_fail(fn, source, "'__metadata__' entry '", m.key(), "' is not a string");
        h.metadata.emplace(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    if (!v.is_object()) st_fail_tensor(fn, source, name, "entry is not an object");
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        st_fail_tensor(fn, source, name, "unknown field '", f.key(), "'");
    const auto dt = v.find("dtype");
    const auto sh = v.find("shape");
    const auto off = v.find("data_offsets");
    if (dt == v.end() || sh == v.end() || off == v.end())
      st_fail_tensor(fn, source, name, "needs 'dtype', 'shape' and 'data_offsets'");
    if (!dt->is_string()) st_fail_tensor(fn, source, name, "'dtype' is not a string");
    safetensors_tensor t;
    t.name = name;
    const std::string& dname = dt->get_ref<const std::string&>();
    if (!safetensors_dtype_from_name(dname, t.dtype))
      st_fail_tensor(fn, source, name, "unknown dtype '", dname, "'");
    if (!sh->is_array()) st_fail_tensor(fn, source, name, "'shape' is not an array");
    std::uint64_t elements = 1;
    t.shape.reserve(sh->size());
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        st_fail_tensor(fn, source, name, "'shape' entries must be non-negative integers");
      const std::uint64_t e = d.get<std::uint64_t>();
      if (mul_overflows(elements, e, elements))
        st_fail_tensor(fn, source, name, "shape element count overflows 64 bits");
      t.shape.push_back(static_cast<std::int64_t>(e));
    }
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      st_fail_tensor(fn, source, name, "'data_offsets' must be [begin, end] (non-negative integers)");
    t.begin = (*off)[0].get<std::uint64_t>();
    t.end = (*off)[1].get<std::uint64_t>();
    if (t.end < t.begin)
      st_fail_tensor(fn, source, name, "data_offsets [", t.begin, ", ", t.end, "] end before begin");
    if (t.end > h.data_bytes)
      st_fail_tensor(fn, source, name, "data_offsets [", t.begin, ", ", t.end,
                     "] run past the data section (", h.data_bytes, " bytes; file truncated?)");
    std::uint64_t expect = 0;
    if (mul_overflows(elements, safetensors_dtype_size(t.dtype), expect))
      st_fail_tensor(fn, source, name, "byte size of the shape overflows 64 bits");
    if (expect != t.end - t.begin)
      st_fail_tensor(fn, source, name, "shape x dtype size is ", expect,
                     " bytes but data_offsets span ", t.end - t.begin, " bytes");
    h.tensors.push_back(std::move(t));
  }
  // Data regions must tile [0, data_bytes) in order: no gap, no overlap, nothing left over.
  std::stable_sort(h.tensors.begin(), h.tensors.end(),
                   [](const safetensors_tensor& a, const safetensors_tensor& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  std::uint64_t cursor = 0;
  for (const auto& t : h.tensors) {
    if (t.begin < cursor)
      st_fail_tensor(fn, source, t.name, "data_offsets [", t.begin, ", ", t.end,
                     "] overlap the previous tensor (which ends at ", cursor, ")");
    if (t.begin > cursor)
      st_fail_tensor(fn, source, t.name, "data_offsets [", t.begin, ", ", t.end,
                     "] leave a gap after byte ", cursor);
    cursor = t.end;
  }
  if (cursor != h.data_bytes)
    st_fail(fn, source, "the tensors cover ", cursor, " bytes of the ", h.data_bytes,
            "-byte data section (trailing bytes)");
  h.build_index();
  return h;
}

}  // namespace detail
}  // namespace ladle
