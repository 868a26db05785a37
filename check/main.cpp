// vsr-check: decides whether a recorded key-value history is linearizable.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "check/check.h"
#include "check/parse.h"
#include "check/report.h"

namespace {

// Exit codes, also listed in --help.
constexpr int kLinearizable = 0;
constexpr int kNotLinearizable = 1;
constexpr int kBadInput = 2;
constexpr int kUnknown = 3;

// A year: anything longer is a typo, and the conversion to nanoseconds must not overflow.
constexpr double kMaxTimeoutS = 365.0 * 24 * 3600;

constexpr const char* kFooter = R"(Formats (--format; detected from the content when not given):
  native  the project's format, one event per line (see check/FORMAT.md):
            <time> <process> invoke <f> <key> [<arg> ...]
            <time> <process> ok|fail <f> <key> [<result>]
            <time> <process> info <f> <key>
          f: get | put | del | cas | append; keys and values are "quoted" or nil.
          Every key starts absent.
  jepsen  Jepsen etcd logs of one register ("INFO jepsen.util - 3 :ok :read 4");
          other lines are skipped.
  kv      EDN-like maps, one per line ({:process 0, :type :ok, :f :get, :key "3",
          :value "x"}); every key starts as "".
An operation that timed out (info) or never completed may take effect at any point
after its invocation, or never.

Output and exit codes:
  0  linearizable
  1  not linearizable: prints the key, and the operations (with their line numbers)
     none of which could come next at the deepest point the search reached
  2  malformed file or bad usage: prints FILE:LINE: what is wrong
  3  unknown: the time limit (or the memory limit) ran out first)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Checks that a key-value history is linearizable.", "vsr-check");
  std::string format_name;
  double timeout_s = 60;
  std::string file;
  app.add_option("--format", format_name, "History format: jepsen, kv or native")
      ->check(CLI::IsMember({"jepsen", "kv", "native"}));
  app.add_option("--timeout", timeout_s, "Seconds before giving up with 'unknown'; 0: no limit")
      ->check(CLI::Range(0.0, kMaxTimeoutS))
      ->capture_default_str();
  app.add_option("FILE", file, "The history to check")->required();
  app.footer(kFooter);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kBadInput;
  }

  const std::optional<vsr::check::Format> format =
      format_name.empty() ? std::nullopt : vsr::check::format_from_name(format_name);
  const vsr::check::ParseResult parsed = vsr::check::parse_file(file, format);
  if (parsed.error) {
    std::cerr << "vsr-check: " << file;
    if (parsed.error->line.value() != 0) std::cerr << ':' << parsed.error->line;
    std::cerr << ": " << parsed.error->message;
    if (!format && parsed.error->line.value() != 0) {
      std::cerr << " (read as the " << vsr::check::to_string(parsed.format)
                << " format; --format chooses another)";
    }
    std::cerr << '\n';
    return kBadInput;
  }

  vsr::check::Options options;
  options.timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(timeout_s));
  // A positive timeout too small for a nanosecond must not turn into "no limit".
  if (timeout_s > 0) options.timeout = std::max(options.timeout, std::chrono::nanoseconds(1));
  const vsr::check::CheckResult result = vsr::check::check(parsed.history, options);
  vsr::check::print_result(std::cout, parsed.history, result);
  switch (result.verdict) {
    case vsr::check::Verdict::linearizable:
      return kLinearizable;
    case vsr::check::Verdict::not_linearizable:
      return kNotLinearizable;
    case vsr::check::Verdict::unknown:
      return kUnknown;
  }
  return kUnknown;
}
