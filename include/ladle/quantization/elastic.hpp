// ladle/quantization/elastic.hpp: one weight tensor served at several bit-widths (EQ-Net).
//
// EQ-Net (Xu et al., ICCV 2023) keeps, for every weight tensor, a table of (Δ, z) indexed by
// bit-width b in 2..8, symmetry (sym / asym) and granularity (per-channel / per-layer), all
// initialised from the same float weights by an Lp (p = 2.4) clipping search, and then picks an
// entry at run time (`set_quantization_params(bits, sym, channel_wise)`). elastic_qparams is that
// table: build() fills it, at() returns the quant_params of one configuration, which feed
// quantize / fake_quantize / lsq_backward_into unchanged, and set() stores trained values back.
// Codes are unsigned [0, 2^b − 1] with the EQ-Net conventions (division, symmetric z = 2^(b−1) − 1)
// unless elastic_options says otherwise.
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/quantization/observers.hpp"
#include "ladle/quantization/spec.hpp"

#include <vector>

namespace ladle {

struct elastic_options {
  int min_bits = 2;
  int max_bits = 8;
  int channel_axis = 0;                                ///< per-channel axis of the weight
  quant_convention convention = quant_convention::eqnet;
  bool is_signed = false;
  bool lp_search = true;                               ///< false: plain min-max ranges
  lp_observer_options lp{};                            ///< EQ-Net: p = 2.4 (GPTQ grid)
};

class elastic_qparams {
 public:
  /// Fills every (bits, symmetric, per_channel) entry from the weights w.
  template <class Policy, class T, std::size_t R>
  static elastic_qparams build(const Policy& policy, tensor_view<T, R> w, const elastic_options& opts = {});
  template <class T, std::size_t R>
  static elastic_qparams build(tensor_view<T, R> w, const elastic_options& opts = {}) {
    return build(seq, w, opts);
  }

  /// The parameters of one configuration; throws when bits is outside [min_bits, max_bits].
  const quant_params& at(int bits, bool symmetric, bool per_channel) const {
    return entries_[index(bits, symmetric, per_channel, "elastic_qparams::at")];
  }
  /// Replaces one entry (e.g. after training Δ with lsq_backward_into); the spec must agree.
  void set(int bits, bool symmetric, bool per_channel, quant_params p) {
    const std::size_t i = index(bits, symmetric, per_channel, "elastic_qparams::set");
    const quant_params& old = entries_[i];
    if (p.spec.bits != bits || p.count() != old.count() ||
        p.spec.granularity != old.spec.granularity || p.spec.scheme != old.spec.scheme)
      throw_invalid_argument("elastic_qparams::set", "p", "does not match the entry's spec and size");
    entries_[i] = std::move(p);
  }
  int min_bits() const noexcept { return opts_.min_bits; }
  int max_bits() const noexcept { return opts_.max_bits; }

 private:
  std::size_t index(int bits, bool symmetric, bool per_channel, const char* fn) const {
    if (bits < opts_.min_bits || bits > opts_.max_bits)
      throw_invalid_argument(fn, "bits", "must be in [", opts_.min_bits, ", ", opts_.max_bits, "], got ", bits);
    return static_cast<std::size_t>(((bits - opts_.min_bits) * 2 + (symmetric ? 1 : 0)) * 2 + (per_channel ? 1 : 0));
  }
  elastic_options opts_;
  std::vector<quant_params> entries_;
};

template <class Policy, class T, std::size_t R>
elastic_qparams elastic_qparams::build(const Policy& policy, tensor_view<T, R> w, const elastic_options& opts) {
  const char* fn = "elastic_qparams::build";
  if (opts.min_bits < 2 || opts.max_bits > 8 || opts.min_bits > opts.max_bits)
    throw_invalid_argument(fn, "opts", "bit range [", opts.min_bits, ", ", opts.max_bits,
                           "] must lie inside [2, 8]");
  elastic_qparams t;
  t.opts_ = opts;
  for (int b = opts.min_bits; b <= opts.max_bits; ++b)
    for (int sym = 0; sym < 2; ++sym)
      for (int pc = 0; pc < 2; ++pc) {
        quant_spec s = sym ? quant_spec::symmetric(b, opts.convention, opts.is_signed)
                           : quant_spec::affine(b, opts.is_signed).with_convention(opts.convention);
        if (pc) s = s.per_channel(opts.channel_axis);
        if (opts.lp_search) {
          lp_observer ob(s, opts.lp);
          ob.observe(policy, w);
          t.entries_.push_back(ob.qparams());
        } else {
          minmax_observer ob(s);
          ob.observe(policy, w);
          t.entries_.push_back(ob.qparams());
        }
      }
  return t;
}

}  // namespace ladle
