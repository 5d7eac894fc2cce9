// ladle/averaging/detail/permutation_impl.hpp: definitions for ladle/averaging/permutation.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/size.hpp"

#include <Eigen/Core>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

namespace ladle {
namespace detail {

/// One layer of a model's chain, its shapes checked.
struct chain_layer {
  const named_tensor* weight = nullptr;
  const named_tensor* bias = nullptr;            // null when the layer has none
  std::vector<const named_tensor*> with_outputs;
  index_t out = 0, in = 0;
  index_t features = 0;  // bias and with_outputs entries per output unit
};

inline std::vector<chain_layer> resolve_chain(const state_dict& m, const mlp_permutation_spec& spec,
                                              const char* fn) {
  const std::size_t n_layers = spec.layers.size();
  if (n_layers < 2)
    throw_invalid_argument(fn, "spec", "has ", n_layers,
                           " layers; a chain needs at least 2 (one hidden permutation)");
  std::set<std::string, std::less<>> seen;
  auto lookup = [&](const std::string& name, std::size_t l, const char* role) -> const named_tensor& {
    if (!seen.insert(name).second)
      throw_invalid_argument(fn, "spec", "tensor '", name, "' (layer ", l, " ", role,
                             ") is named twice");
    const named_tensor* t = m.find(name);
    if (t == nullptr)
      throw_invalid_argument(fn, "spec", "layer ", l, " ", role, " '", name, "' is not in model '",
                             m.source(), "'");
    return *t;
  };
  std::vector<chain_layer> chain(n_layers);
  for (std::size_t l = 0; l < n_layers; ++l) {
    const dense_layer& spec_l = spec.layers[l];
    chain_layer& c = chain[l];
    c.weight = &lookup(spec_l.weight, l, "weight");
    const auto& ws = c.weight->shape;
    if (ws.size() != 2 || ws[0] < 1)
      throw_invalid_argument(fn, "spec", "layer ", l, " weight '", spec_l.weight, "' of '",
                             m.source(), "' has shape ", shape_string(ws),
                             "; a dense weight is [out, in] with out >= 1");
    c.out = ws[0];
    c.in = ws[1];
    if (l > 0 && c.in != chain[l - 1].out)
      throw_invalid_argument(fn, "spec", "layer ", l, " weight '", spec_l.weight, "' of '",
                             m.source(), "' has shape ", shape_string(ws), ": its ", c.in,
                             " inputs differ from the ", chain[l - 1].out, " outputs of layer ",
                             l - 1, " ('", spec.layers[l - 1].weight, "')");
    if (!spec_l.bias.empty()) {
      c.bias = &lookup(spec_l.bias, l, "bias");
      if (c.bias->shape != std::vector<index_t>{c.out})
        throw_invalid_argument(fn, "spec", "layer ", l, " bias '", spec_l.bias, "' of '",
                               m.source(), "' has shape ", shape_string(c.bias->shape),
                               ", expected [", c.out, "]");
      c.features = 1;
    }
    for (const auto& name : spec_l.with_outputs) {
      const named_tensor& t = lookup(name, l, "with_outputs tensor");
      if (t.shape.empty() || t.shape[0] != c.out)
        throw_invalid_argument(fn, "spec", "layer ", l, " with_outputs tensor '", name, "' of '",
                               m.source(), "' has shape ", shape_string(t.shape),
                               "; its axis 0 must run over the layer's ", c.out, " outputs");
      c.with_outputs.push_back(&t);
      c.features += t.elements() / c.out;
    }
  }
  return chain;
}

/// Every spec tensor of b has a's shape (naming the tensor and both sources).
inline void match_chain(const std::vector<chain_layer>& chain, const state_dict& a,
                        const state_dict& b, const char* fn) {
  auto check = [&](const named_tensor* t) {
    const named_tensor* u = b.find(t->name);
    if (u == nullptr)
      throw_invalid_argument(fn, "b", "tensor '", t->name, "' is in model '", a.source(),
                             "' but not in model '", b.source(), "'");
    if (u->shape != t->shape)
      throw_invalid_argument(fn, "b", "tensor '", t->name, "': model '", a.source(),
                             "' has shape ", shape_string(t->shape), ", model '", b.source(),
                             "' has ", shape_string(u->shape));
  };
  for (const auto& c : chain) {
    check(c.weight);
    if (c.bias != nullptr) check(c.bias);
    for (const auto* t : c.with_outputs) check(t);
  }
}

inline void check_permutations(const std::vector<chain_layer>& chain,
                               const std::vector<unit_permutation>& perms, const char* fn) {
  if (perms.size() != chain.size() - 1)
    throw_invalid_argument(fn, "permutations", "has ", perms.size(), " entries but the spec has ",
                           chain.size() - 1, " hidden layers");
  for (std::size_t l = 0; l < perms.size(); ++l) {
    const index_t n = chain[l].out;
    if (static_cast<index_t>(perms[l].size()) != n)
      throw_invalid_argument(fn, "permutations", "permutation ", l, " has length ",
                             perms[l].size(), " but layer ", l, " has ", n, " outputs");
    auto hit = make_buffer<unsigned char>(n, fn, "permutations");
    for (index_t i = 0; i < n; ++i) {
      const index_t v = perms[l][i];
      if (v < 0 || v >= n)
        throw_invalid_argument(fn, "permutations", "permutation ", l, " has ", v, " at index ", i,
                               ", outside [0, ", n, ")");
      if (hit[v]++)
        throw_invalid_argument(fn, "permutations", "permutation ", l, " has ", v,
                               " twice (again at index ", i, ")");
    }
  }
}

/// A float32 / float64 tensor as doubles, refusing other dtypes and non-finite values.
inline void load_doubles(const named_tensor& t, const std::string& source, double* dst,
                         index_t dst_stride, index_t width, const char* fn) {
  // Element e goes to dst[(e / width) * dst_stride + e % width].
  const index_t n = t.elements();
  if (t.type != dtype_v<float> && t.type != dtype_v<double>)
    throw_invalid_argument(fn, "models", "tensor '", t.name, "' of '", source, "' has dtype ",
                           dtype_name(t.type), "; weight matching reads float32 or float64");
  for (index_t e = 0; e < n; ++e) {
    const double x = t.type == dtype_v<float> ? static_cast<double>(static_cast<const float*>(t.data)[e])
                                              : static_cast<const double*>(t.data)[e];
    if (!std::isfinite(x))
      throw_domain_error(fn, "models", "tensor '", t.name, "' of '", source, "' has ", x,
                         " at element ", e, "; finite values only");
    dst[(e / width) * dst_stride + e % width] = x;
  }
}

/// A model's spec tensors in double: per layer W [out, in] and the unit features U [out, f].
struct chain_values {
  std::vector<std::vector<double>> w, u;
};

inline chain_values load_chain(const std::vector<chain_layer>& chain, const state_dict& m,
                               const char* fn) {
  chain_values v;
  for (const auto& c : chain) {
    v.w.push_back(make_buffer<double>(checked_mul(c.out, c.in, fn, "models"), fn, "models"));
    load_doubles(*c.weight, m.source(), v.w.back().data(), c.in, c.in > 0 ? c.in : 1, fn);
    v.u.push_back(make_buffer<double>(checked_mul(c.out, c.features, fn, "models"), fn, "models"));
    index_t column = 0;
    if (c.bias != nullptr)
      load_doubles(*c.bias, m.source(), v.u.back().data() + column++, c.features, 1, fn);
    for (const auto* t : c.with_outputs) {
      const index_t width = t->elements() / c.out;
      if (width > 0) load_doubles(*t, m.source(), v.u.back().data() + column, c.features, width, fn);
      column += width;
    }
  }
  return v;
}

/// sum_k a[k] b[k] in a fixed order: four interleaved std::fma partial sums.
inline double dot_fixed(const double* a, const double* b, index_t n) noexcept {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  index_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 = std::fma(a[k], b[k], s0);
    s1 = std::fma(a[k + 1], b[k + 1], s1);
    s2 = std::fma(a[k + 2], b[k + 2], s2);
    s3 = std::fma(a[k + 3], b[k + 3], s3);
  }
  for (; k < n; ++k) s0 = std::fma(a[k], b[k], s0);
  return (s0 + s1) + (s2 + s3);
}

/// matching_objective over loaded values; perms[l] may be null (identity).
inline double chain_objective(const std::vector<chain_layer>& chain, const chain_values& a,
                              const chain_values& b, const std::vector<const index_t*>& perms,
                              const char* fn) {
  index_t widest = 0;
  for (const auto& c : chain) widest = std::max(widest, c.in);
  auto row = make_buffer<double>(widest, fn, "models");
  double total = 0;
  for (std::size_t l = 0; l < chain.size(); ++l) {
    const chain_layer& c = chain[l];
    const index_t* p_out = l + 1 < chain.size() ? perms[l] : nullptr;
    const index_t* p_in = l > 0 ? perms[l - 1] : nullptr;
    for (index_t i = 0; i < c.out; ++i) {
      const index_t si = p_out ? p_out[i] : i;
      const double* brow = b.w[l].data() + si * c.in;
      for (index_t k = 0; k < c.in; ++k) row[k] = brow[p_in ? p_in[k] : k];
      total += dot_fixed(a.w[l].data() + i * c.in, row.data(), c.in);
      total += dot_fixed(a.u[l].data() + i * c.features, b.u[l].data() + si * c.features,
                         c.features);
    }
  }
  return total;
}

/// Unit features of hidden layer l (see the contract): A's as they are, B's under the
/// neighbouring permutations, into rows of width in_l + f_l + out_{l+1}.
inline void unit_features(const std::vector<chain_layer>& chain, const chain_values& v,
                          std::size_t l, const index_t* p_in, const index_t* p_next, double* dst) {
  const chain_layer& c = chain[l];
  const chain_layer& next = chain[l + 1];
  const index_t width = c.in + c.features + next.out;
  for (index_t i = 0; i < c.out; ++i) {
    double* r = dst + i * width;
    const double* w = v.w[l].data() + i * c.in;
    for (index_t k = 0; k < c.in; ++k) r[k] = w[p_in ? p_in[k] : k];
    r += c.in;
    const double* u = v.u[l].data() + i * c.features;
    for (index_t k = 0; k < c.features; ++k) r[k] = u[k];
    r += c.features;
    const double* wn = v.w[l + 1].data() + i;
    for (index_t k = 0; k < next.out; ++k) r[k] = wn[(p_next ? p_next[k] : k) * next.in];
  }
}

}  // namespace detail

inline owned_state_dict apply_permutation(const state_dict& model, const mlp_permutation_spec& spec,
                                          const std::vector<unit_permutation>& permutations) {
  constexpr const char* fn = "apply_permutation";
  const auto chain = detail::resolve_chain(model, spec, fn);
  detail::check_permutations(chain, permutations, fn);
  owned_state_dict out(model.source());
  for (const auto& t : model.tensors()) {
    const auto& o = out.add(t.name, t.type, t.shape);
    if (t.bytes() > 0) std::memcpy(o.data, t.data, t.bytes());
  }
  for (std::size_t l = 0; l < chain.size(); ++l) {
    const auto& c = chain[l];
    const index_t* p_out = l + 1 < chain.size() ? permutations[l].data() : nullptr;
    const index_t* p_in = l > 0 ? permutations[l - 1].data() : nullptr;
    // Weight: rows by p_out, columns by p_in, element by element (any dtype).
    const std::size_t es = c.weight->type.bits / 8u;
    const auto* src = static_cast<const unsigned char*>(c.weight->data);
    auto* dst = static_cast<unsigned char*>(out.dict().find(c.weight->name)->data);
    for (index_t i = 0; i < c.out; ++i) {
      const index_t si = p_out ? p_out[i] : i;
      for (index_t k = 0; k < c.in; ++k)
        std::memcpy(dst + static_cast<std::size_t>(i * c.in + k) * es,
                    src + static_cast<std::size_t>(si * c.in + (p_in ? p_in[k] : k)) * es, es);
    }
    if (p_out == nullptr) continue;
    // Bias and with_outputs: blocks of axis 0 by p_out.
    std::vector<const named_tensor*> rows(c.with_outputs);
    if (c.bias != nullptr) rows.push_back(c.bias);
    for (const auto* t : rows) {
      const std::size_t block = t->bytes() / static_cast<std::size_t>(c.out);
      if (block == 0) continue;
      const auto* s = static_cast<const unsigned char*>(t->data);
      auto* d = static_cast<unsigned char*>(out.dict().find(t->name)->data);
      for (index_t i = 0; i < c.out; ++i)
        std::memcpy(d + static_cast<std::size_t>(i) * block,
                    s + static_cast<std::size_t>(p_out[i]) * block, block);
    }
  }
  return out;
}

inline double matching_objective(const state_dict& a, const state_dict& b,
                                 const mlp_permutation_spec& spec,
                                 const std::vector<unit_permutation>& permutations) {
  constexpr const char* fn = "matching_objective";
  const auto chain = detail::resolve_chain(a, spec, fn);
  detail::match_chain(chain, a, b, fn);
  const auto chain_b = detail::resolve_chain(b, spec, fn);
  detail::check_permutations(chain, permutations, fn);
  const auto va = detail::load_chain(chain, a, fn), vb = detail::load_chain(chain_b, b, fn);
  std::vector<const index_t*> p;
  for (const auto& q : permutations) p.push_back(q.data());
  return detail::chain_objective(chain, va, vb, p, fn);
}

inline weight_matching_result weight_matching(const state_dict& a, const state_dict& b,
                                              const mlp_permutation_spec& spec,
                                              const weight_matching_options& options) {
  constexpr const char* fn = "weight_matching";
  if (options.max_iterations < 1)
    throw_invalid_argument(fn, "options.max_iterations", "is ", options.max_iterations,
                           "; at least 1 sweep");
  if (!std::isfinite(options.tolerance) || options.tolerance < 0)
    throw_invalid_argument(fn, "options.tolerance", "is ", options.tolerance,
                           "; finite and >= 0 expected");
  const auto chain = detail::resolve_chain(a, spec, fn);
  detail::match_chain(chain, a, b, fn);
  const auto chain_b = detail::resolve_chain(b, spec, fn);
  const auto va = detail::load_chain(chain, a, fn), vb = detail::load_chain(chain_b, b, fn);

  const std::size_t hidden = chain.size() - 1;
  weight_matching_result result;
  index_t widest = 0, widest_features = 0;
  for (std::size_t l = 0; l < hidden; ++l) {
    result.permutations.emplace_back(detail::make_buffer<index_t>(chain[l].out, fn, "models"));
    std::iota(result.permutations.back().begin(), result.permutations.back().end(), index_t{0});
    widest = std::max(widest, chain[l].out);
    const index_t width = chain[l].in + chain[l].features + chain[l + 1].out;
    widest_features = std::max(widest_features, detail::checked_mul(chain[l].out, width, fn, "models"));
  }
  std::vector<const index_t*> p(hidden);
  auto objective = [&] {
    for (std::size_t l = 0; l < hidden; ++l) p[l] = result.permutations[l].data();
    return detail::chain_objective(chain, va, vb, p, fn);
  };
  auto gain = detail::make_buffer<double>(detail::checked_mul(widest, widest, fn, "models"), fn, "models");
  auto fa = detail::make_buffer<double>(widest_features, fn, "models");
  auto fb = detail::make_buffer<double>(widest_features, fn, "models");
  auto candidate = detail::make_buffer<index_t>(widest, fn, "models");
  std::vector<std::size_t> order(hidden);

  result.objective.push_back(objective());
  for (index_t sweep = 0; sweep < options.max_iterations; ++sweep) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    philox g(options.seed, static_cast<std::uint64_t>(sweep));
    ladle::shuffle(order.begin(), order.end(), g);
    bool progress = false;
    for (const std::size_t l : order) {
      const index_t n = chain[l].out;
      const index_t width = chain[l].in + chain[l].features + chain[l + 1].out;
      const index_t* p_in = l > 0 ? result.permutations[l - 1].data() : nullptr;
      const index_t* p_next = l + 1 < hidden ? result.permutations[l + 1].data() : nullptr;
      detail::unit_features(chain, va, l, nullptr, nullptr, fa.data());
      detail::unit_features(chain, vb, l, p_in, p_next, fb.data());
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j)
          gain[i * n + j] = detail::dot_fixed(fa.data() + i * width, fb.data() + j * width, width);
      const tensor_view<const double, 2> c(gain.data(), {n, n});
      auto& current_p = result.permutations[l];
      double current = 0;
      for (index_t i = 0; i < n; ++i) current += c(i, current_p[i]);
      const double best = detail::linear_sum_assignment_as(
          c, tensor_view<index_t, 1>(candidate.data(), {n}), assignment_goal::maximize, fn);
      if (best - current > options.tolerance * std::max(1.0, std::fabs(current))) {
        std::copy(candidate.begin(), candidate.begin() + n, current_p.begin());
        progress = true;
      }
    }
    result.sweeps = sweep + 1;
    result.objective.push_back(objective());
    if (!progress) {
      result.converged = true;
      break;
    }
  }
  return result;
}

namespace detail {

/// Cosines of the principal angles between span(P[:, :k]) and span(Q[:, :k]) (orthonormal
/// columns): the singular values of P_k^T Q_k, clamped to [0, 1], descending.
inline std::vector<double> principal_cosines(const Eigen::MatrixXd& p, const Eigen::MatrixXd& q,
                                             index_t k) {
  const Eigen::MatrixXd m = p.leftCols(k).transpose() * q.leftCols(k);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(m);
  std::vector<double> c(static_cast<std::size_t>(k));
  for (index_t i = 0; i < k; ++i) c[static_cast<std::size_t>(i)] = std::min(1.0, std::max(0.0, svd.singularValues()(i)));
  std::sort(c.begin(), c.end(), [](double x, double y) { return x > y; });
  return c;
}

}  // namespace detail

inline std::vector<subspace_alignment> singular_subspace_alignment(const state_dict& a,
                                                                   const state_dict& b,
                                                                   const mlp_permutation_spec& spec,
                                                                   index_t k) {
  constexpr const char* fn = "singular_subspace_alignment";
  if (k < 1) throw_invalid_argument(fn, "k", "is ", k, "; at least 1 singular vector");
  const auto chain = detail::resolve_chain(a, spec, fn);
  detail::match_chain(chain, a, b, fn);
  const auto chain_b = detail::resolve_chain(b, spec, fn);
  const auto va = detail::load_chain(chain, a, fn), vb = detail::load_chain(chain_b, b, fn);
  std::vector<subspace_alignment> out;
  for (std::size_t l = 0; l < chain.size(); ++l) {
    const index_t rows = chain[l].out, cols = chain[l].in;
    const index_t kk = std::min(k, std::min(rows, cols));
    using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const row_major> wa(va.w[l].data(), rows, cols), wb(vb.w[l].data(), rows, cols);
    Eigen::BDCSVD<Eigen::MatrixXd> sa(Eigen::MatrixXd(wa), Eigen::ComputeThinU | Eigen::ComputeThinV);
    Eigen::BDCSVD<Eigen::MatrixXd> sb(Eigen::MatrixXd(wb), Eigen::ComputeThinU | Eigen::ComputeThinV);
    subspace_alignment r;
    r.weight = spec.layers[l].weight;
    if (kk > 0) {
      r.left = detail::principal_cosines(sa.matrixU(), sb.matrixU(), kk);
      r.right = detail::principal_cosines(sa.matrixV(), sb.matrixV(), kk);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ladle
