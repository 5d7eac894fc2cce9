// Align a model's hidden units to another's before averaging (Git Re-Basin weight matching).
//
// Model b is model a with its hidden units shuffled and a little noise added: the same network
// up to permutation. Averaging them unit by unit mixes unrelated units; after weight matching the
// average is close to a again. The program prints the squared distance to a both ways and exits
// non-zero if the aligned average is not much closer.
#include <ladle/averaging.hpp>

#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

int main() {
  const std::vector<ladle::index_t> dims = {8, 64, 64, 3};  // input, two hidden layers, output
  ladle::philox g(ladle::seed{2024});
  std::vector<std::vector<float>> wa, ba, wb, bb;
  for (std::size_t l = 0; l + 1 < dims.size(); ++l) {
    wa.emplace_back(static_cast<std::size_t>(dims[l + 1] * dims[l]));
    ba.emplace_back(static_cast<std::size_t>(dims[l + 1]));
    for (auto& x : wa.back()) x = static_cast<float>(ladle::normal(g));
    for (auto& x : ba.back()) x = static_cast<float>(ladle::normal(g));
  }
  ladle::state_dict a("a");
  ladle::mlp_permutation_spec spec;
  for (std::size_t l = 0; l < wa.size(); ++l) {
    const std::string w = "fc" + std::to_string(l) + ".weight", b = "fc" + std::to_string(l) + ".bias";
    a.add(w, ladle::make_view(wa[l].data(), {dims[l + 1], dims[l]}));
    a.add(b, ladle::make_view(ba[l].data(), {dims[l + 1]}));
    spec.layers.push_back({w, b, {}});
  }

  // b = a with shuffled hidden units, plus noise.
  std::vector<ladle::unit_permutation> shuffle;
  for (std::size_t l = 1; l + 1 < dims.size(); ++l) {
    shuffle.emplace_back(static_cast<std::size_t>(dims[l]));
    std::iota(shuffle.back().begin(), shuffle.back().end(), ladle::index_t{0});
    ladle::shuffle(shuffle.back().begin(), shuffle.back().end(), g);
  }
  auto b = ladle::apply_permutation(a, spec, shuffle);
  for (const auto& t : b.dict().tensors()) {
    auto* x = static_cast<float*>(t.data);
    for (ladle::index_t i = 0; i < t.elements(); ++i) x[i] += 0.3f * static_cast<float>(ladle::normal(g));
  }

  const auto match = ladle::weight_matching(a, b.view(), spec);
  const auto aligned = ladle::apply_permutation(b.view(), spec, match.permutations);
  const auto naive_avg = ladle::uniform_average({a, b.view()});
  const auto aligned_avg = ladle::uniform_average({a, aligned.view()});

  auto distance_to_a = [&](const ladle::owned_state_dict& m) {
    double d = 0;
    for (const auto& t : a.tensors()) {
      const auto v = m.values<float>(t.name);
      for (ladle::index_t i = 0; i < v.size(); ++i) {
        const double e = v(i) - static_cast<const float*>(t.data)[i];
        d += e * e;
      }
    }
    return d;
  };
  const double naive = distance_to_a(naive_avg), matched = distance_to_a(aligned_avg);
  std::printf("weight matching: %lld sweeps, objective %.1f -> %.1f\n",
              static_cast<long long>(match.sweeps), match.objective.front(), match.objective.back());
  std::printf("squared distance of the average to a: naive %.1f, aligned %.1f\n", naive, matched);
  // The diagnostic of Ito et al.: matching lines up the top singular subspaces of each layer.
  const auto before = ladle::singular_subspace_alignment(a, b.view(), spec, 5);
  const auto after = ladle::singular_subspace_alignment(a, aligned.view(), spec, 5);
  std::printf("mean cosine of the top-5 principal angles, output side / input side, before -> after:\n");
  auto mean = [](const std::vector<double>& c) {
    double s = 0;
    for (double x : c) s += x;
    return s / static_cast<double>(c.size());
  };
  for (std::size_t l = 0; l < before.size(); ++l)
    std::printf("  %-10s %.3f -> %.3f   %.3f -> %.3f\n", before[l].weight.c_str(), mean(before[l].left),
                mean(after[l].left), mean(before[l].right), mean(after[l].right));
  return matched < 0.1 * naive ? 0 : 1;
}
