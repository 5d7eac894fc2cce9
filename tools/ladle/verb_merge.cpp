// tools/ladle/verb_merge.cpp: `ladle merge --base BASE A ... -o OUT --method M`.
//
// Merges fine-tuned checkpoints relative to a base (ladle/averaging/merges.hpp): task arithmetic,
// TIES, DARE (linear) and DARE-TIES; or SLERP between two checkpoints (the base and one model, or
// two models). Through ladle::merge_safetensors / slerp_safetensors (ladle/averaging/files.hpp):
// inputs memory-mapped and streamed in 64 MiB windows, each chunk written as produced (atomic
// output), so resident memory stays near two windows however large or many the checkpoints.
#include "common.hpp"
#include "csv.hpp"
#include "verbs.hpp"

#include <ladle/averaging.hpp>
#include <ladle/averaging/files.hpp>

#include <memory>
#include <sstream>
#include <sys/stat.h>

namespace ladle_cli {

namespace {

struct merge_args {
  common_options common;
  std::string base, output, method = "task-arithmetic", weights, dtype;
  std::vector<std::string> models;
  double lambda = 1.0, density = 1.0, t = 0.5;
  std::uint64_t seed = 0;
};

ladle::output_dtype output_of(const std::string& d) {
  if (d.empty()) return ladle::output_dtype::same_as_first;
  if (d == "fp32") return ladle::output_dtype::float32;
  if (d == "bf16") return ladle::output_dtype::bfloat16;
  if (d == "fp16") return ladle::output_dtype::float16;
  throw usage_error("--dtype: '" + d + "' is not fp32, bf16 or fp16");
}

void run(const merge_args& a) {
  stopwatch clock;
  const std::string& m = a.method;
  if (m != "task-arithmetic" && m != "ties" && m != "dare" && m != "dare-ties" && m != "slerp")
    throw usage_error("--method: unknown method '" + m + "' (task-arithmetic, ties, dare, dare-ties, slerp)");
  if (!(a.density > 0.0 && a.density <= 1.0)) throw usage_error("--density: must be in (0, 1]");
  if (!(a.t >= 0.0 && a.t <= 1.0)) throw usage_error("--t: must be in [0, 1]");
  std::vector<std::string> inputs = a.models;
  if (!a.base.empty()) inputs.insert(inputs.begin(), a.base);
  if (m == "slerp" && inputs.size() != 2)
    throw usage_error("--method slerp takes two checkpoints (--base BASE A, or A B)");
  if (m != "slerp" && a.base.empty()) throw usage_error("--method " + m + " needs --base BASE");
  std::vector<double> weights;
  if (!a.weights.empty()) {
    std::stringstream ss(a.weights);
    std::string item;
    while (std::getline(ss, item, ',')) weights.push_back(parse_double(item, "--weights"));
    if (weights.size() != a.models.size())
      throw usage_error("--weights: " + std::to_string(weights.size()) + " weights for " +
                        std::to_string(a.models.size()) + " models");
  }
  for (const auto& in : inputs) check_input(in, /*allow_directory=*/true);
  check_output(a.output, inputs, a.common);
  progress bar(a.common, "merge");
  bar.stage("merging " + std::to_string(inputs.size()) + " checkpoints (" + m + ")");
  std::string written;
  try {
    if (m == "slerp") {
      ladle::slerp_options o;
      o.output = output_of(a.dtype);
      written = ladle::slerp_safetensors(inputs[0], inputs[1], a.t, a.output, o);
    } else {
      ladle::merge_options o;
      o.method = m == "task-arithmetic" ? ladle::merge_method::task_arithmetic
                 : m == "ties"          ? ladle::merge_method::ties
                 : m == "dare"          ? ladle::merge_method::dare_linear
                                        : ladle::merge_method::dare_ties;
      o.weights = weights;
      o.lambda = a.lambda;
      if (m == "ties") o.density = a.density;
      if (m == "dare" || m == "dare-ties") o.drop_rate = 1.0 - a.density;  // density = kept fraction
      o.seed = ladle::seed{a.seed};
      o.output = output_of(a.dtype);
      written = ladle::merge_safetensors(a.base, a.models, a.output, o);
    }
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  bar.finish();
  struct stat st;
  const std::uint64_t bytes = ::stat(written.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  std::ostringstream s;
  s << "merge: " << (m == "slerp" ? "slerp t=" + format_number(a.t) : m) << " of " << inputs.size()
    << " checkpoints -> " << a.output << " (" << human_bytes(bytes) << ") in " << human_seconds(clock.seconds());
  summary(a.common, s.str());
}

}  // namespace

verb add_merge(CLI::App& app) {
  auto a = std::make_shared<merge_args>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Merge fine-tuned checkpoints relative to a base: task arithmetic, TIES, DARE, DARE-TIES; or SLERP of two.");
  cmd->add_option("models", a->models, "Fine-tuned checkpoints (.safetensors, index .json or folder)")->required();
  cmd->add_option("--base", a->base, "The base checkpoint task vectors are taken against");
  cmd->add_option("-o,--output", a->output, "OUT.safetensors")->required();
  cmd->add_option("--method", a->method, "task-arithmetic|ties|dare|dare-ties|slerp")->default_val("task-arithmetic");
  cmd->add_option("--weights", a->weights, "W1,W2,...: one weight per model (default 1 each)");
  cmd->add_option("--lambda", a->lambda, "Scale of the merged task vector")->default_val(1.0);
  cmd->add_option("--density", a->density, "ties: fraction of each task vector kept; dare: keep probability (drop rate 1 - density)")->default_val(1.0);
  cmd->add_option("--t", a->t, "slerp: position between the two checkpoints, [0, 1]")->default_val(0.5);
  cmd->add_option("--seed", a->seed, "dare: seed of the drop masks")->default_val(0);
  cmd->add_option("--dtype", a->dtype, "fp32|bf16|fp16 (default: the first checkpoint's dtypes)");
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
