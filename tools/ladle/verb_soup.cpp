// tools/ladle/verb_soup.cpp: `ladle soup A.safetensors B.safetensors ... -o OUT.safetensors`.
//
// The (weighted) average of checkpoints, file to file, through ladle/averaging/files.hpp:
// inputs memory-mapped and streamed in windows (resident memory about one window per input),
// fp32 accumulation, output written atomically (one file, or shards with --shard-size).
#include "common.hpp"
#include "verbs.hpp"

#include <ladle/averaging/files.hpp>

#include <memory>
#include <sstream>
#include <sys/stat.h>

namespace ladle_cli {

namespace {

struct soup_args {
  common_options common;
  std::vector<std::string> inputs;
  std::string output, weights, dtype;
  std::uint64_t shard_bytes = 0;
};

ladle::output_dtype parse_output_dtype(const std::string& d) {
  if (d.empty()) return ladle::output_dtype::same_as_first;
  if (d == "fp32") return ladle::output_dtype::float32;
  if (d == "bf16") return ladle::output_dtype::bfloat16;
  if (d == "fp16") return ladle::output_dtype::float16;
  throw usage_error("--dtype: '" + d + "' is not fp32, bf16 or fp16");
}

void run(const soup_args& a) {
  stopwatch clock;
  std::vector<double> weights;
  if (!a.weights.empty()) {
    std::stringstream ss(a.weights);
    std::string item;
    while (std::getline(ss, item, ',')) weights.push_back(parse_double(item, "--weights"));
    if (weights.size() != a.inputs.size())
      throw usage_error("--weights: " + std::to_string(weights.size()) + " weights for " +
                        std::to_string(a.inputs.size()) + " checkpoints");
  }
  ladle::file_average_options o;
  o.average.output = parse_output_dtype(a.dtype);
  o.max_shard_bytes = a.shard_bytes;
  for (const auto& in : a.inputs) check_input(in, /*allow_directory=*/true);
  if (a.shard_bytes > 0 && ladle::detail::file_exists(a.output) && !a.common.force)
    throw failure("output '" + a.output + "' already exists (use --force to overwrite)");
  if (a.shard_bytes == 0) check_output(a.output, a.inputs, a.common);
  progress bar(a.common, "soup");
  bar.stage("averaging " + std::to_string(a.inputs.size()) + " checkpoints");
  o.progress = [&bar](std::uint64_t done, std::uint64_t total) {
    bar.count(static_cast<std::int64_t>(done >> 20), static_cast<std::int64_t>(total >> 20), "MiB");
  };
  std::string written;
  try {
    written = ladle::average_safetensors(a.inputs, a.output, weights, o);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  bar.finish();
  struct stat st;
  const std::uint64_t bytes = ::stat(written.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  std::ostringstream s;
  s << "soup: " << a.inputs.size() << " checkpoints -> " << written << " ("
    << (weights.empty() ? std::string("uniform") : "weights " + a.weights) << ", "
    << human_bytes(bytes) << ") in " << human_seconds(clock.seconds());
  summary(a.common, s.str());
}

}  // namespace

verb add_soup(CLI::App& app) {
  auto a = std::make_shared<soup_args>();
  CLI::App* cmd = app.add_subcommand(
      "soup", "Average checkpoints (a model soup): uniform or weighted, streamed file to file, fp32 accumulation.");
  cmd->add_option("inputs", a->inputs, "Checkpoints: .safetensors files, index .json or folders")->required();
  cmd->add_option("-o,--output", a->output, "OUT.safetensors (or a folder with --shard-size)")->required();
  cmd->add_option("--weights", a->weights, "W1,W2,...: one weight per checkpoint (default uniform)");
  cmd->add_option("--dtype", a->dtype, "fp32|bf16|fp16 (default: the first checkpoint's dtypes)");
  cmd->add_option("--shard-size", a->shard_bytes, "Write a sharded checkpoint into folder OUT")->check(CLI::PositiveNumber);
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
