// Each subcommand registers itself on the CLI11 app. Callbacks throw rooflm::Error on bad
// input; main() prints the message and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>

namespace rooflm::cli {

void register_generate(CLI::App& app);
void register_bench(CLI::App& app);
void register_roofline(CLI::App& app);
void register_probe(CLI::App& app);
void register_features(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace rooflm::cli
