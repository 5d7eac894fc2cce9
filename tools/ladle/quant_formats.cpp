// tools/ladle/quant_formats.cpp: see quant_formats.hpp.
#include "quant_formats.hpp"

#include "common.hpp"

#include <ladle/quantization.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ladle_cli {

namespace {

const std::vector<std::string> formats = {"int8", "int4", "int2", "nf4", "fp8-e4m3", "fp8-e5m2",
                                          "mxfp8", "mxfp6", "mxfp4", "mxint8"};

bool is_int(const std::string& f) { return f == "int8" || f == "int4" || f == "int2"; }
bool is_fp8(const std::string& f) { return f == "fp8-e4m3" || f == "fp8-e5m2"; }
bool is_mx(const std::string& f) { return f.compare(0, 2, "mx") == 0; }

int int_bits(const std::string& f) { return f == "int8" ? 8 : f == "int4" ? 4 : 2; }

ladle::mx_element mx_of(const std::string& f) {
  if (f == "mxfp8") return ladle::mx_element::fp8_e4m3;
  if (f == "mxfp6") return ladle::mx_element::fp6_e2m3;
  if (f == "mxfp4") return ladle::mx_element::fp4_e2m1;
  return ladle::mx_element::int8;
}

ladle::fp8_format fp8_of(const std::string& f) {
  return f == "fp8-e4m3" ? ladle::fp8_format::e4m3 : ladle::fp8_format::e5m2;
}

std::int64_t elements_of(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto e : shape) n *= e;
  return n;
}

/// Granularity in the record's words, and the group size for "group:N".
void resolve_granularity(const quant_choice& c, std::string& g, std::int64_t& group) {
  group = 0;
  std::string value;
  if (c.granularity.empty()) {
    g = is_mx(c.format) ? "block" : c.format == "nf4" ? "group" : "channel";
    if (c.format == "nf4") group = 64;
    if (is_mx(c.format)) group = 32;
    return;
  }
  if (split_parameter(c.granularity, "group", value)) {
    g = "group";
    group = parse_int(value, "--granularity group size");
    return;
  }
  g = c.granularity;
}

ladle::quant_spec int_spec(const quant_record& r) {
  ladle::quant_spec s = r.scheme == "affine" ? ladle::quant_spec::affine(r.bits, false)
                                             : ladle::quant_spec::symmetric(r.bits);
  if (r.granularity == "channel") s = s.per_channel(0);
  else if (r.granularity == "group") s = s.per_group(r.group_size);
  return s;
}

/// The 2-d view every format works on: [shape[0], rest] for int / fp8 (channel = axis 0; groups
/// run along the last axis, which divides rest), [elements / last, last] for MX.
std::pair<ladle::index_t, ladle::index_t> rows_cols(const quant_record& r) {
  const std::int64_t n = elements_of(r.shape);
  if (r.shape.empty() || n == 0) return {1, n};
  if (r.format.compare(0, 2, "mx") == 0) return {n / r.shape.back(), r.shape.back()};
  return {r.shape[0], n / r.shape[0]};
}

ladle::index_t slots_of(const quant_record& r) {
  const auto rc = rows_cols(r);
  if (r.granularity == "tensor") return 1;
  if (r.granularity == "channel") return rc.first;
  return elements_of(r.shape) / r.group_size;
}

}  // namespace

void check_choice(const quant_choice& c) {
  if (std::find(formats.begin(), formats.end(), c.format) == formats.end()) {
    std::string all;
    for (const auto& f : formats) all += (all.empty() ? "" : ", ") + f;
    throw usage_error("--format: unknown format '" + c.format + "' (one of " + all + ")");
  }
  std::string g;
  std::int64_t group;
  resolve_granularity(c, g, group);
  if (g != "tensor" && g != "channel" && g != "group" && g != "block")
    throw usage_error("--granularity: '" + c.granularity + "' is not tensor, channel or group:N");
  if (g == "group" && group <= 0)
    throw usage_error("--granularity: group size must be positive, got " + std::to_string(group));
  if (is_mx(c.format) && !c.granularity.empty())
    throw usage_error("--granularity: MX formats always use blocks of 32 along the last axis");
  if (c.format == "nf4" && g != "group")
    throw usage_error("--granularity: nf4 uses absmax blocks: group:N (default group:64)");
  if (c.format == "nf4" && group % 2 != 0)
    throw usage_error("--granularity: nf4 block size must be even, got " + std::to_string(group));
  if (is_fp8(c.format) && g == "group")
    throw usage_error("--granularity: fp8 scales are per tensor or per channel");
  if (!is_int(c.format) && c.affine)
    throw usage_error("--affine: only the integer formats (int8, int4, int2) have zero points");
  std::string p;
  if (c.observer != "minmax" && c.observer != "mse" && !split_parameter(c.observer, "percentile", p))
    throw usage_error("--observer: '" + c.observer + "' is not minmax, mse or percentile:P");
  if (!p.empty()) {
    const double v = parse_double(p, "--observer percentile");
    if (!(v > 50.0 && v <= 100.0))
      throw usage_error("--observer: percentile must be in (50, 100], got " + p);
  }
  if (!is_int(c.format) && c.observer != "minmax")
    throw usage_error("--observer: only the integer formats use an observer");
  if (c.double_quant && c.format != "nf4")
    throw usage_error("--double-quant: only nf4 quantizes its block scales");
  if (c.mx_scale != "ocp" && c.mx_scale != "round-up")
    throw usage_error("--mx-scale: '" + c.mx_scale + "' is not ocp or round-up");
  if (c.mx_scale != "ocp" && !is_mx(c.format))
    throw usage_error("--mx-scale: only the MX formats have an E8M0 scale rule");
}

std::string shape_problem(const quant_choice& c, const std::vector<std::int64_t>& shape) {
  std::string g;
  std::int64_t group;
  resolve_granularity(c, g, group);
  const std::int64_t n = elements_of(shape);
  if (n == 0) return "it is empty";
  if (is_mx(c.format) && (shape.empty() || shape.back() % 32 != 0))
    return "its last extent is not a multiple of the MX block size 32";
  if (g == "group" && c.format != "nf4" && (shape.empty() || shape.back() % group != 0))
    return "its last extent is not a multiple of the group size " + std::to_string(group);
  return "";
}

quantized_tensor plan_quantized(const quant_choice& c, const std::string& dtype,
                                const std::vector<std::int64_t>& shape) {
  quantized_tensor q;
  quant_record& r = q.record;
  r.format = c.format;
  r.dtype = dtype;
  r.shape = shape;
  resolve_granularity(c, r.granularity, r.group_size);
  r.axis = r.granularity == "channel" ? 0 : r.granularity == "tensor" ? 0 : -1;
  const std::int64_t n = elements_of(shape);
  if (is_int(c.format)) {
    r.bits = int_bits(c.format);
    r.scheme = c.affine ? "affine" : "symmetric";
    r.is_signed = !c.affine;
    r.packed = r.bits < 8;
    r.observer = c.observer;
    q.code_dtype = r.bits < 8 ? ladle::safetensors_dtype::u8
                   : r.is_signed ? ladle::safetensors_dtype::i8 : ladle::safetensors_dtype::u8;
    q.code_shape = r.bits < 8 ? std::vector<std::int64_t>{ladle::packed_size(n, r.bits)} : shape;
    q.scale_shape = {slots_of(r)};
    q.has_zero_point = c.affine;
  } else if (c.format == "nf4") {
    r.bits = 4;
    r.scheme = "normal-float";
    r.packed = true;
    q.code_shape = {(n + 1) / 2};
    const std::int64_t blocks = (n + r.group_size - 1) / r.group_size;
    q.scale_shape = {blocks};
    if (c.double_quant) {
      constexpr std::int64_t scale_block = 256;  // QLoRA's (nf4_options::scale_block_size)
      r.double_quant = q.double_quant = true;
      r.scale_block_size = scale_block;
      q.scale_dtype = ladle::safetensors_dtype::i8;
      q.scale_scale_shape = {(blocks + scale_block - 1) / scale_block};
    }
  } else if (is_fp8(c.format)) {
    r.bits = 8;
    r.scheme = "float";
    q.code_dtype = c.format == "fp8-e4m3" ? ladle::safetensors_dtype::f8_e4m3 : ladle::safetensors_dtype::f8_e5m2;
    q.code_shape = shape;
    q.scale_shape = {slots_of(r)};
  } else {
    const ladle::mx_element e = mx_of(c.format);
    r.bits = ladle::mx_element_bits(e);
    r.scheme = "microscaling";
    r.scale_rule = c.mx_scale;
    r.packed = r.bits < 8;
    r.is_signed = true;
    const auto rc = rows_cols(r);
    q.code_shape = {rc.first, ladle::mx_packed_row_bytes(rc.second, e)};
    q.scale_dtype = ladle::safetensors_dtype::u8;
    q.scale_shape = {rc.first, rc.second / 32};
  }
  return q;
}

std::uint64_t quantized_tensor::stored_bytes() const {
  std::uint64_t b = static_cast<std::uint64_t>(elements_of(code_shape)) * ladle::safetensors_dtype_size(code_dtype) +
                    static_cast<std::uint64_t>(elements_of(scale_shape)) * ladle::safetensors_dtype_size(scale_dtype);
  if (has_zero_point) b += static_cast<std::uint64_t>(elements_of(scale_shape)) * 4;
  if (double_quant) b += static_cast<std::uint64_t>(elements_of(scale_scale_shape)) * 4 + 4;
  return b;
}

void quant_error::add(const float* x, const float* back, std::int64_t n) {
  double se = squared, ss = signal, m = max_abs;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(back[i]) - static_cast<double>(x[i]);
    se += d * d;
    ss += static_cast<double>(x[i]) * x[i];
    m = std::max(m, std::fabs(d));
  }
  squared = se;
  signal = ss;
  max_abs = m;
  count += n;
}

namespace {

/// Elements per chunk for chunk_bytes of float32 scratch (at least one).
std::int64_t chunk_elements(std::uint64_t chunk_bytes) {
  return static_cast<std::int64_t>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(chunk_bytes / 4, std::uint64_t(1) << 40)));
}

/// Elements of one scale slot: the tensor, a row (axis 0), or a group.
std::int64_t slot_elements(const quant_record& r) {
  const std::int64_t n = elements_of(r.shape);
  if (r.granularity == "tensor") return n;
  if (r.granularity == "channel") return n / rows_cols(r).first;
  return r.group_size;
}

/// The integer spec a chunk of `slots` whole slots is quantized with (its slots are the chunk's
/// rows), or a single slot's per-tensor spec.
ladle::quant_spec chunk_spec(const quant_record& r, bool one_slot) {
  quant_record t = r;
  if (one_slot) t.granularity = "tensor";
  return int_spec(t);
}

void check_finite(const float* x, std::int64_t n, std::int64_t first) {
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]))
      throw failure("element " + std::to_string(first + i) + " is not finite (" + std::to_string(x[i]) + ")");
}

/// Sub-byte codes arriving in element order, packed (packing.hpp) into whole bytes as they come;
/// the codes of a byte not yet complete wait for the next call.
template <class Q>
class code_packer {
 public:
  code_packer(int bits, const piece_writer& write) : bits_(bits), per_(8 / bits), write_(write) {}
  /// Room for n new codes in buffer (returned), placed right after the codes still held.
  Q* prepare(std::vector<Q>& buffer, std::int64_t n) {
    buffer.resize(static_cast<std::size_t>(per_ + n));
    std::copy(held_, held_ + count_, buffer.data() + (per_ - count_));
    return buffer.data() + per_;
  }
  /// Packs and writes the whole bytes of the held codes and the n new ones; keeps the rest.
  void push(std::vector<Q>& buffer, std::int64_t n) {
    Q* first = buffer.data() + (per_ - count_);
    const std::int64_t total = count_ + n, whole = total / per_ * per_;
    out_.resize(static_cast<std::size_t>(whole / per_));
    ladle::pack_codes_into(ladle::make_view(static_cast<const Q*>(first), static_cast<ladle::index_t>(whole)), bits_,
                           ladle::make_view(out_.data(), static_cast<ladle::index_t>(out_.size())));
    write_("", out_.data(), out_.size());
    count_ = total - whole;
    std::copy(first + whole, first + total, held_);
  }
  /// Writes the last, partial byte (its unused high bits 0, as pack_codes_into leaves them).
  void finish() {
    if (count_ == 0) return;
    std::uint8_t last = 0;
    ladle::pack_codes_into(ladle::make_view(static_cast<const Q*>(held_), static_cast<ladle::index_t>(count_)), bits_,
                           ladle::make_view(&last, 1));
    write_("", &last, 1);
    count_ = 0;
  }

 private:
  int bits_;
  std::int64_t per_, count_ = 0;
  Q held_[8] = {};
  const piece_writer& write_;
  std::vector<std::uint8_t> out_;
};

/// Integer formats: observer, codes, scales, zero points.
template <class Q>
void quantize_int(const ladle::parallel_policy& policy, const quant_record& r, const float_reader& read,
                  const piece_writer& write, std::int64_t chunk, quant_error* error) {
  const std::int64_t n = elements_of(r.shape), S = slot_elements(r), slots = n / S;
  const bool affine = r.scheme == "affine";
  std::string pct;
  const bool percentile = split_parameter(r.observer, "percentile", pct);
  const double pct_value = percentile ? parse_double(pct, "percentile") : 0.0;
  std::vector<float> x, back;
  std::vector<Q> codes;
  code_packer<Q> packer(r.bits, write);
  const bool packed = r.bits < 8;
  const auto write_params = [&](const ladle::quant_params& p) {
    write(".scale", p.scale.data(), p.scale.size() * 4);
    if (affine) write(".zero_point", p.zero_point.data(), p.zero_point.size() * 4);
  };
  // Quantizes x[0, rows * cols) (elements first.. of the tensor) with p; codes out, error summed.
  const auto encode = [&](const ladle::quant_params& p, std::int64_t rows, std::int64_t cols) {
    const std::int64_t len = rows * cols;
    Q* c = packed ? packer.prepare(codes, len) : (codes.resize(static_cast<std::size_t>(len)), codes.data());
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)});
    const auto C = ladle::make_view(c, {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)});
    ladle::quantize_into(policy, X, p, C);
    if (error) {
      back.resize(static_cast<std::size_t>(len));
      ladle::dequantize_into(policy, ladle::make_view(static_cast<const Q*>(c), {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)}), p,
                             ladle::make_view(back.data(), {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)}));
      error->add(x.data(), back.data(), len);
    }
    if (packed) packer.push(codes, len);
    else write("", c, static_cast<std::uint64_t>(len));
  };
  const auto observe = [&](auto& o, std::int64_t rows, std::int64_t cols) {
    o.observe(policy, ladle::make_view(static_cast<const float*>(x.data()), {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)}));
  };
  const auto fresh_params = [&](const ladle::quant_spec& spec, std::int64_t rows, std::int64_t cols) {
    if (r.observer == "mse") {
      ladle::histogram_observer o(spec);
      observe(o, rows, cols);
      return o.qparams();
    }
    if (percentile) {
      ladle::percentile_observer o(spec, pct_value);
      observe(o, rows, cols);
      return o.qparams();
    }
    return ladle::choose_qparams(policy, spec, ladle::make_view(static_cast<const float*>(x.data()), {static_cast<ladle::index_t>(rows), static_cast<ladle::index_t>(cols)}));
  };
  if (S <= chunk) {
    // Chunks of whole slots, each slot a row of the chunk's view.
    const ladle::quant_spec spec = chunk_spec(r, r.granularity == "tensor");
    const std::int64_t per = std::max<std::int64_t>(1, chunk / S);
    for (std::int64_t s0 = 0; s0 < slots; s0 += per) {
      const std::int64_t k = std::min(per, slots - s0);
      x.resize(static_cast<std::size_t>(k * S));
      read(s0 * S, k * S, x.data());
      check_finite(x.data(), k * S, s0 * S);
      const ladle::quant_params p = fresh_params(spec, k, S);
      encode(p, k, S);
      write_params(p);
    }
  } else {
    // A slot larger than a chunk: its statistics in one pass of pieces, then its codes.
    const ladle::quant_spec spec = chunk_spec(r, true);
    for (std::int64_t s = 0; s < slots; ++s) {
      const auto pieces = [&](auto&& body) {
        for (std::int64_t at = 0; at < S; at += chunk) {
          const std::int64_t len = std::min(chunk, S - at);
          x.resize(static_cast<std::size_t>(len));
          read(s * S + at, len, x.data());
          body(len, s * S + at);
        }
      };
      ladle::minmax_observer range(spec);
      pieces([&](std::int64_t len, std::int64_t first) {
        check_finite(x.data(), len, first);
        observe(range, 1, len);
      });
      ladle::quant_params p;
      if (r.observer == "mse" || percentile) {
        ladle::histogram_observer h(spec);
        ladle::percentile_observer q(spec, percentile ? pct_value : 99.99);
        if (percentile) q.set_ranges(range.lo(), range.hi());
        else h.set_ranges(range.lo(), range.hi());
        pieces([&](std::int64_t len, std::int64_t) {
          if (percentile) observe(q, 1, len);
          else observe(h, 1, len);
        });
        p = percentile ? q.qparams() : h.qparams();
      } else {
        p = range.qparams();
      }
      pieces([&](std::int64_t len, std::int64_t) { encode(p, 1, len); });
      write_params(p);
    }
  }
  if (packed) packer.finish();
}

}  // namespace

void quantize_streamed(const ladle::parallel_policy& policy, const quantized_tensor& plan,
                       const float_reader& read, const piece_writer& write,
                       std::uint64_t chunk_bytes, quant_error* error) {
  const quant_record& r = plan.record;
  const std::int64_t n = elements_of(r.shape), chunk = chunk_elements(chunk_bytes);
  if (is_int(r.format)) {
    if (r.is_signed) quantize_int<std::int8_t>(policy, r, read, write, chunk, error);
    else quantize_int<std::uint8_t>(policy, r, read, write, chunk, error);
    return;
  }
  std::vector<float> x, back;
  if (r.format == "nf4") {
    // Chunks of whole blocks (the last block may be short); codes start on a byte (blocks are even).
    const std::int64_t G = r.group_size, step = std::max<std::int64_t>(1, chunk / G) * G;
    std::vector<float> absmax;  // double quant: every block's absmax until the end
    ladle::nf4_options o;
    o.block_size = G;
    const auto blocks = [&](std::int64_t at, std::int64_t len) {
      x.resize(static_cast<std::size_t>(len));
      read(at, len, x.data());
      check_finite(x.data(), len, at);
      return ladle::nf4_quantize(policy, ladle::make_view(static_cast<const float*>(x.data()), static_cast<ladle::index_t>(len)), o);
    };
    for (std::int64_t at = 0; at < n; at += step) {
      const std::int64_t len = std::min(step, n - at);
      const ladle::nf4_tensor t = blocks(at, len);
      write("", t.codes.data(), static_cast<std::uint64_t>(t.codes.size()));
      if (r.double_quant) {
        absmax.insert(absmax.end(), t.absmax.data(), t.absmax.data() + t.absmax.size());
      } else {
        write(".scale", t.absmax.data(), static_cast<std::uint64_t>(t.absmax.size()) * 4);
        if (error) {
          back.resize(static_cast<std::size_t>(len));
          ladle::nf4_dequantize(policy, t, ladle::make_view(back.data(), static_cast<ladle::index_t>(len)));
          error->add(x.data(), back.data(), len);
        }
      }
    }
    if (!r.double_quant) return;
    // QLoRA's second quantization needs the mean of every absmax: done once all are known.
    ladle::nf4_tensor dq;
    dq.size = n;
    dq.block_size = G;
    dq.absmax = ladle::tensor<float, 1>({static_cast<ladle::index_t>(absmax.size())});
    std::copy(absmax.begin(), absmax.end(), dq.absmax.data());
    ladle::detail::nf4_double_quantize(dq, r.scale_block_size);
    write(".scale", dq.absmax_codes.data(), static_cast<std::uint64_t>(dq.absmax_codes.size()));
    write(".scale_scale", dq.absmax_scales.data(), static_cast<std::uint64_t>(dq.absmax_scales.size()) * 4);
    write(".scale_offset", &dq.absmax_offset, 4);
    if (!error) return;
    // The error needs the decoded block scales: a second pass re-encodes each chunk.
    for (std::int64_t at = 0; at < n; at += step) {
      const std::int64_t len = std::min(step, n - at);
      ladle::nf4_tensor t = blocks(at, len);
      for (ladle::index_t b = 0; b < t.absmax.size(); ++b) t.absmax.data()[b] = dq.block_scale(at / G + b);
      back.resize(static_cast<std::size_t>(len));
      ladle::nf4_dequantize(policy, t, ladle::make_view(back.data(), static_cast<ladle::index_t>(len)));
      error->add(x.data(), back.data(), len);
    }
    return;
  }
  if (is_fp8(r.format)) {
    // Scale per slot so the slot's largest magnitude lands on the format's largest value.
    const ladle::fp8_format f = fp8_of(r.format);
    const std::int64_t S = slot_elements(r), slots = n / S;
    std::vector<std::uint8_t> codes;
    const auto encode = [&](std::int64_t len, const float* scale, std::int64_t per) {
      codes.resize(static_cast<std::size_t>(len));
      back.resize(static_cast<std::size_t>(len));  // the scaled values, then the reconstruction
      for (std::int64_t i = 0; i < len; ++i) back[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] / scale[i / per];
      ladle::fp8_encode(policy, ladle::make_view(static_cast<const float*>(back.data()), static_cast<ladle::index_t>(len)),
                        ladle::make_view(codes.data(), static_cast<ladle::index_t>(len)),
                        ladle::fp8_options{f, ladle::fp8_overflow::saturate});
      write("", codes.data(), codes.size());
      if (error) {
        ladle::fp8_decode(policy, ladle::make_view(static_cast<const std::uint8_t*>(codes.data()), static_cast<ladle::index_t>(len)),
                          ladle::make_view(back.data(), static_cast<ladle::index_t>(len)), f);
        for (std::int64_t i = 0; i < len; ++i) back[static_cast<std::size_t>(i)] *= scale[i / per];
        error->add(x.data(), back.data(), len);
      }
    };
    const auto scale_of = [&](float amax) { return amax > 0.0f ? amax / ladle::fp8_max(f) : 1.0f; };
    const auto amax_of = [&](std::int64_t len) {
      float amax = 0.0f;
      for (std::int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[static_cast<std::size_t>(i)]));
      return amax;
    };
    if (S <= chunk) {
      const std::int64_t per = std::max<std::int64_t>(1, chunk / S);
      std::vector<float> scale;
      for (std::int64_t s0 = 0; s0 < slots; s0 += per) {
        const std::int64_t k = std::min(per, slots - s0);
        x.resize(static_cast<std::size_t>(k * S));
        read(s0 * S, k * S, x.data());
        check_finite(x.data(), k * S, s0 * S);
        scale.assign(static_cast<std::size_t>(k), 0.0f);
        for (std::int64_t j = 0; j < k; ++j) {
          float amax = 0.0f;
          for (std::int64_t i = j * S; i < (j + 1) * S; ++i) amax = std::max(amax, std::fabs(x[static_cast<std::size_t>(i)]));
          scale[static_cast<std::size_t>(j)] = scale_of(amax);
        }
        encode(k * S, scale.data(), S);
        write(".scale", scale.data(), scale.size() * 4);
      }
    } else {
      for (std::int64_t s = 0; s < slots; ++s) {
        float amax = 0.0f;
        for (std::int64_t at = 0; at < S; at += chunk) {
          const std::int64_t len = std::min(chunk, S - at);
          x.resize(static_cast<std::size_t>(len));
          read(s * S + at, len, x.data());
          check_finite(x.data(), len, s * S + at);
          amax = std::max(amax, amax_of(len));
        }
        const float sc = scale_of(amax);
        for (std::int64_t at = 0; at < S; at += chunk) {
          const std::int64_t len = std::min(chunk, S - at);
          x.resize(static_cast<std::size_t>(len));
          read(s * S + at, len, x.data());
          encode(len, &sc, len);
        }
        write(".scale", &sc, 4);
      }
    }
    return;
  }
  // MX: blocks of 32 are independent and pack into whole bytes (mx.hpp), so a chunk of whole
  // blocks viewed as [blocks, 32] gives the bytes of those blocks in the [rows, cols] layout.
  const ladle::mx_element e = mx_of(r.format);
  const ladle::index_t block_bytes = ladle::mx_packed_row_bytes(32, e);
  const std::int64_t step = std::max<std::int64_t>(1, chunk / 32) * 32;
  const ladle::mx_options mo{e, r.scale_rule == "round-up" ? ladle::mx_scale_rule::round_up : ladle::mx_scale_rule::ocp};
  std::vector<std::uint8_t> scales, data;
  for (std::int64_t at = 0; at < n; at += step) {
    const std::int64_t len = std::min(step, n - at);
    const auto blocks = static_cast<ladle::index_t>(len / 32);
    x.resize(static_cast<std::size_t>(len));
    read(at, len, x.data());
    scales.assign(static_cast<std::size_t>(blocks), 0);
    data.assign(static_cast<std::size_t>(blocks * block_bytes), 0);
    ladle::mx_quantize_into(policy, ladle::make_view(static_cast<const float*>(x.data()), {blocks, 32}),
                            ladle::make_view(scales.data(), {blocks, 1}), ladle::make_view(data.data(), {blocks, block_bytes}), mo);
    write("", data.data(), data.size());
    write(".scale", scales.data(), scales.size());
    if (error) {
      back.resize(static_cast<std::size_t>(len));
      ladle::mx_dequantize_into(policy, ladle::make_view(static_cast<const std::uint8_t*>(scales.data()), {blocks, 1}),
                                ladle::make_view(static_cast<const std::uint8_t*>(data.data()), {blocks, block_bytes}), e,
                                ladle::make_view(back.data(), {blocks, 32}));
      error->add(x.data(), back.data(), len);
    }
  }
}

void dequantize_streamed(const ladle::parallel_policy& policy, const std::string& name,
                         const quant_record& r, const stored_parts& parts, std::uint64_t chunk_bytes,
                         const float_writer& emit,
                         const std::function<void(std::uint64_t, std::uint64_t)>& codes_done) {
  const unsigned char* codes = parts.codes.data;
  const std::uint64_t code_bytes = parts.codes.bytes;
  const unsigned char* scales = parts.scales.data;
  const std::uint64_t scale_bytes = parts.scales.bytes;
  const unsigned char* zero_points = parts.zero_points.data;
  const std::uint64_t zero_point_bytes = parts.zero_points.bytes;
  auto bad = [&](const std::string& what) {
    return failure("tensor '" + name + "': " + what);
  };
  if (std::find(formats.begin(), formats.end(), r.format) == formats.end())
    throw bad("unknown quantized format '" + r.format + "'");
  quant_choice c;
  c.format = r.format;
  c.affine = r.scheme == "affine";
  if (r.granularity == "group" && r.format != "nf4") c.granularity = "group:" + std::to_string(r.group_size);
  else if (r.format == "nf4") c.granularity = "group:" + std::to_string(r.group_size);
  else if (!is_mx(r.format)) c.granularity = r.granularity;
  c.double_quant = r.double_quant;
  if (!r.scale_rule.empty()) c.mx_scale = r.scale_rule;
  try {
    check_choice(c);
  } catch (const usage_error& e) {
    throw bad(std::string("inconsistent ladle.quant metadata: ") + e.what());
  }
  const std::string problem = shape_problem(c, r.shape);
  if (!problem.empty()) throw bad("metadata shape does not fit the format: " + problem);
  const quantized_tensor plan = plan_quantized(c, r.dtype, r.shape);
  const quant_record& p = plan.record;
  if (p.bits != r.bits || p.is_signed != r.is_signed || p.packed != r.packed || p.scheme != r.scheme ||
      p.scale_block_size != r.scale_block_size)
    throw bad("inconsistent ladle.quant metadata (bits, signed, packed, scheme or scale_block_size)");
  const std::uint64_t want_codes = static_cast<std::uint64_t>(elements_of(plan.code_shape)) *
                                   ladle::safetensors_dtype_size(plan.code_dtype);
  const std::uint64_t want_scales = static_cast<std::uint64_t>(elements_of(plan.scale_shape)) *
                                    ladle::safetensors_dtype_size(plan.scale_dtype);
  if (code_bytes != want_codes)
    throw bad("codes hold " + std::to_string(code_bytes) + " bytes, the metadata needs " + std::to_string(want_codes));
  if (scale_bytes != want_scales)
    throw bad("'" + name + ".scale' holds " + std::to_string(scale_bytes) + " bytes, the metadata needs " +
              std::to_string(want_scales));
  const std::int64_t n = elements_of(r.shape), chunk = chunk_elements(chunk_bytes);
  std::vector<float> out;
  const auto done = [&](std::int64_t first, std::int64_t len, std::uint64_t byte0, std::uint64_t byte1) {
    emit(first, len, out.data());
    if (codes_done) codes_done(byte0, byte1 - byte0);
  };
  try {
    if (is_int(r.format)) {
      ladle::quant_params qp;
      qp.spec = int_spec(r);
      qp.scale.resize(static_cast<std::size_t>(want_scales / 4));
      std::memcpy(qp.scale.data(), scales, want_scales);
      qp.zero_point.resize(qp.scale.size());
      if (r.scheme == "symmetric") {
        qp.zero_point = std::vector<std::int32_t>(qp.scale.size(), ladle::qparams_for_range(qp.spec, 0, 0).second);
      } else {
        if (zero_points == nullptr) throw bad("affine codes need '" + name + ".zero_point'");
        if (zero_point_bytes != want_scales)
          throw bad("'" + name + ".zero_point' holds " + std::to_string(zero_point_bytes) +
                    " bytes, the metadata needs " + std::to_string(want_scales));
        std::memcpy(qp.zero_point.data(), zero_points, zero_point_bytes);
      }
      const std::int64_t S = slot_elements(r), slots = n / S, per_byte = 8 / r.bits;
      std::vector<std::int16_t> unpacked;
      // Codes of elements [first, first + len) viewed as [rows, cols], dequantized with p.
      const auto decode = [&](const ladle::quant_params& p, std::int64_t first, std::int64_t rows, std::int64_t cols) {
        const std::int64_t len = rows * cols;
        const auto rr = static_cast<ladle::index_t>(rows), cc = static_cast<ladle::index_t>(cols);
        out.resize(static_cast<std::size_t>(len));
        const auto O = ladle::make_view(out.data(), {rr, cc});
        std::uint64_t b0 = static_cast<std::uint64_t>(first), b1 = static_cast<std::uint64_t>(first + len);
        if (r.bits == 8) {
          if (r.is_signed) ladle::dequantize_into(policy, ladle::make_view(reinterpret_cast<const std::int8_t*>(codes) + first, {rr, cc}), p, O);
          else ladle::dequantize_into(policy, ladle::make_view(codes + first, {rr, cc}), p, O);
        } else {
          // The byte holding element `first` may hold earlier elements too: unpack from its start.
          const std::int64_t lead = first % per_byte;
          b0 = static_cast<std::uint64_t>(first / per_byte);
          b1 = static_cast<std::uint64_t>(ladle::packed_size(first + len, r.bits));
          unpacked.resize(static_cast<std::size_t>(lead + len));
          const auto src = ladle::make_view(codes + b0, static_cast<ladle::index_t>(b1 - b0));
          const auto dst = ladle::make_view(unpacked.data(), static_cast<ladle::index_t>(lead + len));
          if (r.is_signed) ladle::unpack_codes_into(src, r.bits, dst);
          else ladle::unpack_codes_into(src, r.bits, ladle::make_view(reinterpret_cast<std::uint16_t*>(unpacked.data()), static_cast<ladle::index_t>(lead + len)));
          if (r.is_signed) ladle::dequantize_into(policy, ladle::make_view(static_cast<const std::int16_t*>(unpacked.data()) + lead, {rr, cc}), p, O);
          else ladle::dequantize_into(policy, ladle::make_view(reinterpret_cast<const std::uint16_t*>(unpacked.data()) + lead, {rr, cc}), p, O);
        }
        done(first, len, b0, b1);
      };
      const auto slice = [&](const ladle::quant_spec& spec, std::int64_t s0, std::int64_t k) {
        ladle::quant_params p;
        p.spec = spec;
        p.scale.assign(qp.scale.begin() + s0, qp.scale.begin() + s0 + k);
        p.zero_point.assign(qp.zero_point.begin() + s0, qp.zero_point.begin() + s0 + k);
        return p;
      };
      if (S <= chunk) {
        const ladle::quant_spec spec = chunk_spec(r, r.granularity == "tensor");
        const std::int64_t per = std::max<std::int64_t>(1, chunk / S);
        for (std::int64_t s0 = 0; s0 < slots; s0 += per) {
          const std::int64_t k = std::min(per, slots - s0);
          decode(slice(spec, s0, k), s0 * S, k, S);
        }
      } else {
        const ladle::quant_spec spec = chunk_spec(r, true);
        for (std::int64_t s = 0; s < slots; ++s) {
          const ladle::quant_params p = slice(spec, s, 1);
          for (std::int64_t at = 0; at < S; at += chunk) decode(p, s * S + at, 1, std::min(chunk, S - at));
        }
      }
    } else if (r.format == "nf4") {
      const std::int64_t G = r.group_size, step = std::max<std::int64_t>(1, chunk / G) * G;
      ladle::nf4_tensor meta;  // block scales only (double quant: the int8 codes and their scales)
      meta.size = n;
      meta.block_size = G;
      if (r.double_quant) {
        const std::uint64_t want_groups = static_cast<std::uint64_t>(plan.scale_scale_shape[0]) * 4;
        if (parts.scale_scales.data == nullptr || parts.scale_scales.bytes != want_groups)
          throw bad("double-quantized nf4 needs '" + name + ".scale_scale' of " + std::to_string(want_groups) + " bytes");
        if (parts.scale_offset.data == nullptr || parts.scale_offset.bytes != 4)
          throw bad("double-quantized nf4 needs '" + name + ".scale_offset' of 4 bytes");
        meta.scale_block_size = r.scale_block_size;
        meta.absmax_codes = ladle::tensor<std::int8_t, 1>({static_cast<ladle::index_t>(want_scales)});
        std::memcpy(meta.absmax_codes.data(), scales, want_scales);
        meta.absmax_scales = ladle::tensor<float, 1>({static_cast<ladle::index_t>(want_groups / 4)});
        std::memcpy(meta.absmax_scales.data(), parts.scale_scales.data, want_groups);
        std::memcpy(&meta.absmax_offset, parts.scale_offset.data, 4);
        if (!std::isfinite(meta.absmax_offset)) throw bad("'" + name + ".scale_offset' is not finite");
      }
      ladle::nf4_tensor t;
      t.block_size = G;
      for (std::int64_t at = 0; at < n; at += step) {
        const std::int64_t len = std::min(step, n - at), b0 = at / G, nb = (len + G - 1) / G;
        t.size = len;
        t.codes = ladle::tensor<std::uint8_t, 1>({static_cast<ladle::index_t>((len + 1) / 2)});
        std::memcpy(t.codes.data(), codes + at / 2, static_cast<std::size_t>(t.codes.size()));
        t.absmax = ladle::tensor<float, 1>({static_cast<ladle::index_t>(nb)});
        if (r.double_quant) {
          for (std::int64_t b = 0; b < nb; ++b) t.absmax.data()[b] = meta.block_scale(b0 + b);
        } else {
          std::memcpy(t.absmax.data(), scales + 4 * b0, static_cast<std::size_t>(nb) * 4);
        }
        out.resize(static_cast<std::size_t>(len));
        ladle::nf4_dequantize(policy, t, ladle::make_view(out.data(), static_cast<ladle::index_t>(len)));
        done(at, len, static_cast<std::uint64_t>(at / 2), static_cast<std::uint64_t>(at / 2) + static_cast<std::uint64_t>(t.codes.size()));
      }
    } else if (is_fp8(r.format)) {
      const std::int64_t slots = static_cast<std::int64_t>(want_scales / 4), per = n / slots;
      std::vector<float> scale(static_cast<std::size_t>(slots));
      std::memcpy(scale.data(), scales, want_scales);
      for (std::int64_t at = 0; at < n; at += chunk) {
        const std::int64_t len = std::min(chunk, n - at);
        out.resize(static_cast<std::size_t>(len));
        ladle::fp8_decode(policy, ladle::make_view(codes + at, static_cast<ladle::index_t>(len)),
                          ladle::make_view(out.data(), static_cast<ladle::index_t>(len)), fp8_of(r.format));
        for (std::int64_t i = 0; i < len; ++i) out[static_cast<std::size_t>(i)] *= scale[static_cast<std::size_t>((at + i) / per)];
        done(at, len, static_cast<std::uint64_t>(at), static_cast<std::uint64_t>(at + len));
      }
    } else {
      const ladle::mx_element e = mx_of(r.format);
      const ladle::index_t block_bytes = ladle::mx_packed_row_bytes(32, e);
      const std::int64_t step = std::max<std::int64_t>(1, chunk / 32) * 32;
      for (std::int64_t at = 0; at < n; at += step) {
        const std::int64_t len = std::min(step, n - at), b0 = at / 32;
        const auto blocks = static_cast<ladle::index_t>(len / 32);
        out.resize(static_cast<std::size_t>(len));
        ladle::mx_dequantize_into(policy, ladle::make_view(scales + b0, {blocks, 1}),
                                  ladle::make_view(codes + b0 * block_bytes, {blocks, block_bytes}), e,
                                  ladle::make_view(out.data(), {blocks, 32}));
        done(at, len, static_cast<std::uint64_t>(b0 * block_bytes), static_cast<std::uint64_t>((b0 + blocks) * block_bytes));
      }
    }
  } catch (const ladle::error& e) {
    throw bad(e.what());
  }
}

}  // namespace ladle_cli
