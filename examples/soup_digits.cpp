// Model soups on the digits data (Wortsman et al., "Model soups", ICML 2022), in small.
//
// One perceptron (digits_mlp.hpp) is pre-trained on a training split, then fine-tuned eight times
// from that same starting point with different learning rates, epochs, weight decay and
// mini-batch orders. The program compares, on a held-out test split:
//   - the best single fine-tuned model (chosen by validation accuracy, as a user would),
//   - the uniform soup (ladle::uniform_average of all eight),
//   - the greedy soup (ladle::greedy_soup: ingredients by validation accuracy, each kept only if
//     the soup's validation accuracy improves).
// It prints the table and exits non-zero if the greedy soup's validation accuracy is below the
// best single model's (greedy soup starts from that model and only accepts improvements) or if any
// soup does not have the models' tensors.
#include "digits_mlp.hpp"

#include <ladle/averaging.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

int main() {
  try {
    const digits::data_set d = digits::load();
    // Splits: a seeded shuffle of the 1797 images, 1000 train / 397 validation / 400 test.
    const auto parts = digits::split(d, 7, {1000, 397});
    const std::vector<int>&train = parts[0], &val = parts[1], &test = parts[2];

    // Pre-training: 40 epochs of full-batch gradient descent (not converged on purpose: the
    // fine-tuning runs then move away from it in different directions).
    digits::mlp pretrained = digits::initialise(2024);
    digits::train_full_batch(pretrained, d, train, 40, 0.5f);

    struct recipe {
      float lr;
      int epochs;
      float weight_decay;
      std::uint64_t seed;
    };
    const std::vector<recipe> recipes = {
        {0.05f, 5, 0.0f, 1},  {0.05f, 10, 0.0f, 2}, {0.1f, 5, 0.0f, 3},  {0.1f, 10, 1e-4f, 4},
        {0.2f, 5, 0.0f, 5},   {0.2f, 10, 0.0f, 6},  {0.3f, 5, 1e-4f, 7}, {0.3f, 10, 0.0f, 8}};
    std::vector<digits::mlp> models;
    std::vector<ladle::state_dict> dicts;
    std::vector<double> val_acc;
    for (std::size_t k = 0; k < recipes.size(); ++k) {
      digits::mlp m = pretrained;
      digits::sgd_options o;
      o.lr = recipes[k].lr;
      o.epochs = recipes[k].epochs;
      o.weight_decay = recipes[k].weight_decay;
      o.seed = recipes[k].seed;
      digits::train_sgd(m, d, train, o);
      models.push_back(std::move(m));
    }
    for (std::size_t k = 0; k < models.size(); ++k) {
      dicts.push_back(digits::as_state_dict(models[k], "model " + std::to_string(k)));
      val_acc.push_back(digits::accuracy(models[k], d, val));
    }

    std::printf("%-28s %10s %10s\n", "model", "val acc", "test acc");
    std::printf("%-28s %10.4f %10.4f\n", "pre-trained", digits::accuracy(pretrained, d, val),
                digits::accuracy(pretrained, d, test));
    std::size_t best = 0;
    for (std::size_t k = 0; k < models.size(); ++k) {
      char name[64];
      std::snprintf(name, sizeof name, "ft %zu: lr %.2f, %d ep, wd %.0e", k, recipes[k].lr,
                    recipes[k].epochs, recipes[k].weight_decay);
      std::printf("%-28s %10.4f %10.4f\n", name, val_acc[k], digits::accuracy(models[k], d, test));
      if (val_acc[k] > val_acc[best]) best = k;
    }

    const ladle::owned_state_dict uniform = ladle::uniform_average(dicts);
    const digits::mlp uniform_mlp = digits::from_state_dict(uniform.view());
    const auto evaluate = [&](const ladle::state_dict& s) {
      return digits::accuracy(digits::from_state_dict(s), d, val);
    };
    const ladle::greedy_soup_result greedy = ladle::greedy_soup(dicts, val_acc, evaluate);
    const digits::mlp greedy_mlp = digits::from_state_dict(greedy.soup.view());

    std::string ingredients;
    for (std::size_t i : greedy.ingredients) ingredients += (ingredients.empty() ? "" : ",") + std::to_string(i);
    const double best_val = val_acc[best], best_test = digits::accuracy(models[best], d, test);
    const double uniform_val = digits::accuracy(uniform_mlp, d, val),
                 uniform_test = digits::accuracy(uniform_mlp, d, test);
    const double greedy_val = digits::accuracy(greedy_mlp, d, val),
                 greedy_test = digits::accuracy(greedy_mlp, d, test);
    std::printf("\n%-28s %10s %10s\n", "", "val acc", "test acc");
    std::printf("%-28s %10.4f %10.4f\n", ("best single (ft " + std::to_string(best) + ")").c_str(),
                best_val, best_test);
    std::printf("%-28s %10.4f %10.4f\n", "uniform soup (all 8)", uniform_val, uniform_test);
    std::printf("%-28s %10.4f %10.4f\n", ("greedy soup (" + ingredients + ")").c_str(), greedy_val,
                greedy_test);
    if (greedy_val < best_val || greedy.score != greedy_val) {
      std::fprintf(stderr, "greedy soup: validation accuracy %.4f below the best single %.4f\n",
                   greedy_val, best_val);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
