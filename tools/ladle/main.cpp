// tools/ladle/main.cpp: the `ladle` program. Parses the command line, runs one verb, maps errors
// to exit codes: 0 success, 2 usage error (bad option, unknown method, invalid number),
// 1 failure (missing or malformed file, data the method refuses). Messages go to stderr as
// "ladle VERB: problem", naming the file.
#include "common.hpp"
#include "verbs.hpp"

#include <ladle/core/error.hpp>
#include <ladle/version.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

int main(int argc, char** argv) {
  CLI::App app{"ladle " LADLE_VERSION_STRING
               ": resample tabular data; weigh classes; select rows; aggregate quantile forecasts; quantize, average, merge and inspect checkpoints from the shell.\n"
               "Run 'ladle VERB --help' for a verb's options. Exit codes: 0 success, 1 failure, "
               "2 usage error."};
  app.name("ladle");
  app.set_version_flag("--version", "ladle " LADLE_VERSION_STRING);
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);

  std::vector<ladle_cli::verb> verbs;
  verbs.push_back(ladle_cli::add_inspect(app));
  verbs.push_back(ladle_cli::add_smote(app));
  verbs.push_back(ladle_cli::add_quantize(app));
  verbs.push_back(ladle_cli::add_dequantize(app));
  verbs.push_back(ladle_cli::add_soup(app));
  verbs.push_back(ladle_cli::add_merge(app));
  verbs.push_back(ladle_cli::add_weights(app));
  verbs.push_back(ladle_cli::add_aggregate(app));
  verbs.push_back(ladle_cli::add_select(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  for (const ladle_cli::verb& v : verbs) {
    if (!v.command->parsed()) continue;
    const std::string name = v.command->get_name();
    try {
      v.run();
      return 0;
    } catch (const ladle_cli::usage_error& e) {
      std::cerr << "ladle " << name << ": " << e.what() << "\n"
                << "Run 'ladle " << name << " --help' for the options.\n";
      return 2;
    } catch (const ladle_cli::failure& e) {
      std::cerr << "ladle " << name << ": " << e.what() << "\n";
      return 1;
    } catch (const std::bad_alloc&) {
      std::cerr << "ladle " << name << ": out of memory\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "ladle " << name << ": " << e.what() << "\n";
      return 1;
    }
  }
  return 2;
}
