// ladle/averaging/permutation.hpp: permutation symmetry of chains of dense layers (MLPs) and
// weight matching (Ainsworth, Hayase & Srinivasa, "Git Re-Basin", ICLR 2023), which permutes
// one model's hidden units to line them up with another's before the two are averaged.
//
// Spec: layers[0..L) of y = act(W x + b), W of shape [out, in] (row-major), in order, each
// named by its tensors in the state dict: `weight`, optional `bias` [out], and optional
// `with_outputs` (other tensors whose axis 0 runs over the layer's output units: norm scale and
// shift, running mean / variance; any shape [out, ...]). Layer l's in must equal layer l-1's
// out. Hidden permutation l (0 <= l < L - 1) acts on the outputs of layer l, which are the
// inputs of layer l + 1; the inputs of layer 0 and the outputs of layer L - 1 never move.
// Tensors not named by the spec are copied unchanged.
// Convention: a permutation P of n units is a vector of n distinct indices in [0, n); applying
// it puts unit P[i] of the model at position i: W_l'[i, :] = W_l[P_l[i], :], b_l'[i] =
// b_l[P_l[i]], W_{l+1}'[:, i] = W_{l+1}[:, P_l[i]] (jnp.take(w, perm, axis), as the reference).
// The model computes the same function after it (up to the order of the sums over hidden units).
//
// apply_permutation(model, spec, permutations): an owned copy of `model` (same names, order and
// dtypes; any dtype: elements are moved, never converted) with the spec's tensors permuted.
// matching_objective(a, b, spec, permutations) = sum over the spec's tensors t of
//   <A_t, pi(B)_t> (the Frobenius inner product), in double; maximising it is minimising
//   ||A - pi(B)||^2 over the spec's tensors, since permutations keep ||B||.
// weight_matching(a, b, spec, options): coordinate descent over the hidden permutations,
//   starting from the identity. A sweep visits them in the order of a Fisher-Yates shuffle
//   drawn from Philox stream `sweep index` under options.seed; for permutation l with the others
//   held, the gain is linear in P_l: C[i][j] = <features of unit i in A, features of unit j in
//   B> where a unit's features are its row of W_l (B's columns under P_{l-1}), its bias and
//   with_outputs entries, and its column of W_{l+1} (B's rows under P_{l+1}); the exact
//   assignment maximising sum_i C[i][P_l[i]] (ladle/core/linear_assignment.hpp) replaces P_l
//   when it gains more than options.tolerance * max(1, |current|) (the reference replaces it
//   even on a tie and uses an absolute 1e-12; keeping the incumbent on ties makes the result
//   independent of which of several optima the solver returns). The descent stops after the
//   first sweep without a gain (converged) or after options.max_iterations sweeps.
//   Result: one permutation per hidden layer (apply them to b), and objective[s] =
//   matching_objective after s sweeps (objective[0]: the identity), non-decreasing.
// singular_subspace_alignment(a, b, spec, k): the diagnostic of Ito et al. ("Analysis of Linear
//   Mode Connectivity via Permutation-Based Weight Matching"): weight matching works by lining up
//   the singular vectors with large singular values, which permutations cannot change. For each
//   spec layer, with W_a = U_a S_a V_a^T and W_b likewise (thin SVDs in double), the cosines of
//   the principal angles between the top-k left singular subspaces (span of U_a[:, :k] and
//   U_b[:, :k], the layer's output side) and between the top-k right ones (V, the input side):
//   the singular values of U_a[:, :k]^T U_b[:, :k], descending, in [0, 1]; 1 means the
//   subspaces coincide. k is capped at min(out, in) per layer. Run it on (a, b) and on
//   (a, apply_permutation(b, spec, result.permutations)) to see what matching aligned. The SVDs
//   are Eigen's (BDCSVD); values agree with scipy.linalg.subspace_angles to about 1e-12 but, unlike
//   the rest of this header, are not bit-identical across instruction sets. Errors: as
//   matching_objective, plus k < 1. Cost per layer O(out in min(out, in)); memory O(out in).
// Arithmetic: every dot product runs in double over a fixed order with std::fma into four
// interleaved partial sums, so the result is the same bits on every instruction set and run.
// Errors (ladle::invalid_argument unless noted; nothing is written): fewer than two layers; a
// spec tensor missing, named twice, of the wrong rank or shape (the message names the tensor,
// the layer and the model); a, b disagreeing on a spec tensor's shape (naming it and both
// sources); weight matching on dtypes other than float32 / float64, or NaN / Inf values
// (domain_error naming tensor and element); a permutation count, length or entry that is not a
// permutation (naming the layer and index); max_iterations < 1; tolerance not finite or < 0.
// Complexity per sweep, for hidden widths n_l: sum_l O(n_l^2 (in_l + f_l + out_{l+1})) for the
//   gain matrices (f_l = bias and with_outputs entries per unit) plus sum_l O(n_l^3) for the
//   assignments; apply_permutation and matching_objective are O(parameters).
// Memory: weight_matching holds double copies of the spec's tensors of a and b, one n x n
//   double gain matrix and two n x (in + f + out) double feature matrices for the widest layer.
#pragma once

#include "ladle/averaging/state_dict.hpp"
#include "ladle/core/linear_assignment.hpp"
#include "ladle/core/random.hpp"

#include <string>
#include <vector>

namespace ladle {

/// One layer y = act(W x + b) of a chain, named by its tensors.
struct dense_layer {
  std::string weight;                     ///< [out, in]
  std::string bias;                       ///< [out]; empty when the layer has none
  std::vector<std::string> with_outputs;  ///< other tensors [out, ...] that follow its outputs
};

/// A chain of dense layers; hidden permutation l sits between layer l and layer l + 1.
struct mlp_permutation_spec {
  std::vector<dense_layer> layers;
};

/// P[i] = the unit placed at position i. One per hidden layer.
using unit_permutation = std::vector<index_t>;

/// `model` with its hidden units permuted (see the contract).
owned_state_dict apply_permutation(const state_dict& model, const mlp_permutation_spec& spec,
                                   const std::vector<unit_permutation>& permutations);

/// sum over the spec's tensors of <A, pi(B)> (pi: `permutations` applied to b).
double matching_objective(const state_dict& a, const state_dict& b,
                          const mlp_permutation_spec& spec,
                          const std::vector<unit_permutation>& permutations);

struct weight_matching_options {
  index_t max_iterations = 100;  ///< sweeps at most (the reference's default)
  double tolerance = 1e-12;      ///< a gain counts when > tolerance * max(1, |current|)
  ladle::seed seed{0};           ///< the order layers are visited in
};

struct weight_matching_result {
  std::vector<unit_permutation> permutations;  ///< apply to b
  std::vector<double> objective;               ///< [0] identity, [s] after sweep s
  index_t sweeps = 0;
  bool converged = false;  ///< the last sweep gained nothing
};

/// Permutations of b's hidden units that maximise matching_objective(a, b, ...) by coordinate
/// descent (see the contract).
weight_matching_result weight_matching(const state_dict& a, const state_dict& b,
                                       const mlp_permutation_spec& spec,
                                       const weight_matching_options& options = {});

/// Principal-angle cosines between the top-k singular subspaces of one layer's weight in a and b.
struct subspace_alignment {
  std::string weight;         ///< the layer's weight tensor
  std::vector<double> left;   ///< output side (column spaces), descending, min(k, out, in) values
  std::vector<double> right;  ///< input side (row spaces), descending
};

/// One entry per spec layer, in order (see the contract).
std::vector<subspace_alignment> singular_subspace_alignment(const state_dict& a, const state_dict& b,
                                                            const mlp_permutation_spec& spec,
                                                            index_t k);

}  // namespace ladle

#include "ladle/averaging/detail/permutation_impl.hpp"
