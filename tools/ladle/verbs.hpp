// tools/ladle/verbs.hpp: each verb registers its subcommand and the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ladle_cli {

struct verb {
  CLI::App* command = nullptr;
  std::function<void()> run;  ///< throws usage_error / failure / ladle::error
};

// One per file: verb_<name>.cpp.
verb add_inspect(CLI::App& app);
verb add_smote(CLI::App& app);
verb add_quantize(CLI::App& app);
verb add_dequantize(CLI::App& app);
verb add_soup(CLI::App& app);
verb add_merge(CLI::App& app);
verb add_weights(CLI::App& app);
verb add_aggregate(CLI::App& app);
verb add_select(CLI::App& app);

}  // namespace ladle_cli
