// rooflm: generate | bench | roofline | probe | features | serve. Errors from any subcommand are printed as
// one line naming what was wrong (the flag, where the library named an option field), with exit status 1.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/flag_names.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"rooflm: LLM decoding at the roofline, and the roofline that explains it"};
  app.require_subcommand(1);
  rooflm::cli::register_generate(app);
  rooflm::cli::register_bench(app);
  rooflm::cli::register_roofline(app);
  rooflm::cli::register_probe(app);
  rooflm::cli::register_features(app);
  rooflm::cli::register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rooflm::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "rooflm: error: %s\n", rooflm::cli::with_flag_names(e.what()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fprintf(stderr, "rooflm: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "rooflm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
