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
  if (q.has_zero_point) q.zero_point.resize(static_cast<std::size_t>(q.scale_shape[0]));
  return q;
}

void quantize_tensor(const ladle::parallel_policy& policy, const std::vector<float>& x,
                     quantized_tensor& q) {
  const quant_record& r = q.record;
  const auto rc = rows_cols(r);
  const auto X = ladle::make_view(x.data(), {rc.first, rc.second});
  const std::size_t code_bytes = static_cast<std::size_t>(
      elements_of(q.code_shape) * static_cast<std::int64_t>(ladle::safetensors_dtype_size(q.code_dtype)));
  q.codes.assign(code_bytes, 0);
  if (is_int(r.format)) {
    const ladle::quant_spec spec = int_spec(r);
    ladle::quant_params p;
    std::string pct;
    if (r.observer == "mse") {
      ladle::histogram_observer o(spec);
      o.observe(policy, X);
      p = o.qparams();
    } else if (split_parameter(r.observer, "percentile", pct)) {
      ladle::percentile_observer o(spec, parse_double(pct, "percentile"));
      o.observe(policy, X);
      p = o.qparams();
    } else {
      p = ladle::choose_qparams(policy, spec, X);
    }
    if (r.bits < 8) {
      ladle::quantize_packed_into(policy, X, p, ladle::make_view(q.codes.data(), static_cast<ladle::index_t>(code_bytes)));
    } else if (r.is_signed) {
      ladle::quantize_into(policy, X, p, ladle::make_view(reinterpret_cast<std::int8_t*>(q.codes.data()), {rc.first, rc.second}));
    } else {
      ladle::quantize_into(policy, X, p, ladle::make_view(q.codes.data(), {rc.first, rc.second}));
    }
    q.scales.resize(p.scale.size() * 4);
    std::memcpy(q.scales.data(), p.scale.data(), q.scales.size());
    if (q.has_zero_point) q.zero_point = p.zero_point;
  } else if (r.format == "nf4") {
    ladle::nf4_options o;
    o.block_size = r.group_size;
    o.double_quant = r.double_quant;
    if (r.double_quant) o.scale_block_size = r.scale_block_size;
    const ladle::nf4_tensor t = ladle::nf4_quantize(policy, ladle::make_view(x.data(), static_cast<ladle::index_t>(x.size())), o);
    std::memcpy(q.codes.data(), t.codes.data(), q.codes.size());
    if (t.double_quantized()) {
      q.scales.resize(static_cast<std::size_t>(t.absmax_codes.size()));
      std::memcpy(q.scales.data(), t.absmax_codes.data(), q.scales.size());
      q.scale_scales.assign(t.absmax_scales.data(), t.absmax_scales.data() + t.absmax_scales.size());
      q.scale_offset = t.absmax_offset;
    } else {
      q.scales.resize(static_cast<std::size_t>(t.absmax.size()) * 4);
      std::memcpy(q.scales.data(), t.absmax.data(), q.scales.size());
    }
  } else if (is_fp8(r.format)) {
    // Scale per slot so the slot's largest magnitude lands on the format's largest value.
    const ladle::fp8_format f = fp8_of(r.format);
    const ladle::index_t slots = slots_of(r), per = static_cast<ladle::index_t>(x.size()) / slots;
    std::vector<float> scale(static_cast<std::size_t>(slots)), scaled(x.size());
    for (ladle::index_t s = 0; s < slots; ++s) {
      float amax = 0.0f;
      for (ladle::index_t i = s * per; i < (s + 1) * per; ++i) {
        if (!std::isfinite(x[static_cast<std::size_t>(i)]))
          throw failure("element " + std::to_string(i) + " is not finite");
        amax = std::max(amax, std::fabs(x[static_cast<std::size_t>(i)]));
      }
      const float sc = amax > 0.0f ? amax / ladle::fp8_max(f) : 1.0f;
      scale[static_cast<std::size_t>(s)] = sc;
      for (ladle::index_t i = s * per; i < (s + 1) * per; ++i)
        scaled[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] / sc;
    }
    ladle::fp8_encode(policy, ladle::make_view(scaled.data(), static_cast<ladle::index_t>(x.size())),
                      ladle::make_view(q.codes.data(), static_cast<ladle::index_t>(x.size())),
                      ladle::fp8_options{f, ladle::fp8_overflow::saturate});
    q.scales.resize(scale.size() * 4);
    std::memcpy(q.scales.data(), scale.data(), q.scales.size());
  } else {
    const ladle::mx_element e = mx_of(r.format);
    q.scales.assign(static_cast<std::size_t>(rc.first * (rc.second / 32)), 0);
    ladle::mx_quantize_into(policy, X, ladle::make_view(q.scales.data(), {rc.first, rc.second / 32}),
                            ladle::make_view(q.codes.data(), {rc.first, ladle::mx_packed_row_bytes(rc.second, e)}),
                            ladle::mx_options{e, r.scale_rule == "round-up" ? ladle::mx_scale_rule::round_up
                                                                             : ladle::mx_scale_rule::ocp});
  }
}

void dequantize_tensor(const ladle::parallel_policy& policy, const std::string& name,
                       const quant_record& r, const stored_parts& parts, std::vector<float>& out) {
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
  const auto rc = rows_cols(r);
  const std::int64_t n = elements_of(r.shape);
  out.assign(static_cast<std::size_t>(n), 0.0f);
  const auto O = ladle::make_view(out.data(), {rc.first, rc.second});
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
      if (r.bits < 8) {
        if (r.is_signed) {
          std::vector<std::int8_t> unpacked(static_cast<std::size_t>(n));
          ladle::unpack_codes_into(ladle::make_view(codes, static_cast<ladle::index_t>(code_bytes)), r.bits,
                                   ladle::make_view(unpacked.data(), static_cast<ladle::index_t>(n)));
          ladle::dequantize_into(policy, ladle::make_view(static_cast<const std::int8_t*>(unpacked.data()), {rc.first, rc.second}), qp, O);
        } else {
          std::vector<std::uint8_t> unpacked(static_cast<std::size_t>(n));
          ladle::unpack_codes_into(ladle::make_view(codes, static_cast<ladle::index_t>(code_bytes)), r.bits,
                                   ladle::make_view(unpacked.data(), static_cast<ladle::index_t>(n)));
          ladle::dequantize_into(policy, ladle::make_view(static_cast<const std::uint8_t*>(unpacked.data()), {rc.first, rc.second}), qp, O);
        }
      } else if (r.is_signed) {
        ladle::dequantize_into(policy, ladle::make_view(reinterpret_cast<const std::int8_t*>(codes), {rc.first, rc.second}), qp, O);
      } else {
        ladle::dequantize_into(policy, ladle::make_view(codes, {rc.first, rc.second}), qp, O);
      }
    } else if (r.format == "nf4") {
      ladle::nf4_tensor t;
      t.size = n;
      t.block_size = r.group_size;
      t.codes = ladle::tensor<std::uint8_t, 1>({static_cast<ladle::index_t>(code_bytes)});
      std::memcpy(t.codes.data(), codes, code_bytes);
      if (r.double_quant) {
        const std::uint64_t want_groups = static_cast<std::uint64_t>(plan.scale_scale_shape[0]) * 4;
        if (parts.scale_scales.data == nullptr || parts.scale_scales.bytes != want_groups)
          throw bad("double-quantized nf4 needs '" + name + ".scale_scale' of " + std::to_string(want_groups) + " bytes");
        if (parts.scale_offset.data == nullptr || parts.scale_offset.bytes != 4)
          throw bad("double-quantized nf4 needs '" + name + ".scale_offset' of 4 bytes");
        t.scale_block_size = r.scale_block_size;
        t.absmax_codes = ladle::tensor<std::int8_t, 1>({static_cast<ladle::index_t>(want_scales)});
        std::memcpy(t.absmax_codes.data(), scales, want_scales);
        t.absmax_scales = ladle::tensor<float, 1>({static_cast<ladle::index_t>(want_groups / 4)});
        std::memcpy(t.absmax_scales.data(), parts.scale_scales.data, want_groups);
        std::memcpy(&t.absmax_offset, parts.scale_offset.data, 4);
      } else {
        t.absmax = ladle::tensor<float, 1>({static_cast<ladle::index_t>(want_scales / 4)});
        std::memcpy(t.absmax.data(), scales, want_scales);
      }
      ladle::nf4_dequantize(policy, t, ladle::make_view(out.data(), static_cast<ladle::index_t>(n)));
    } else if (is_fp8(r.format)) {
      const ladle::index_t slots = static_cast<ladle::index_t>(want_scales / 4), per = n / slots;
      std::vector<float> scale(static_cast<std::size_t>(slots));
      std::memcpy(scale.data(), scales, want_scales);
      ladle::fp8_decode(policy, ladle::make_view(codes, static_cast<ladle::index_t>(n)),
                        ladle::make_view(out.data(), static_cast<ladle::index_t>(n)), fp8_of(r.format));
      for (ladle::index_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] *= scale[static_cast<std::size_t>(i / per)];
    } else {
      const ladle::mx_element e = mx_of(r.format);
      ladle::mx_dequantize_into(policy, ladle::make_view(scales, {rc.first, rc.second / 32}),
                                ladle::make_view(codes, {rc.first, ladle::mx_packed_row_bytes(rc.second, e)}), e, O);
    }
  } catch (const ladle::error& e) {
    throw bad(e.what());
  }
}

}  // namespace ladle_cli
