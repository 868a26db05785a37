// vsr-client: the command-line client of a vsr-shm cluster on this host.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "client/cli/bench.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/text.h"
#include "vsr/client.h"

namespace {

using vsr::client::Op;
namespace cli = vsr::client::cli;

constexpr const char* kFooter = R"(Commands:
  vsr-client [--cluster NAME] [--timeout MS] put KEY VALUE | get KEY | del KEY
             | cas KEY EXPECTED NEW | append KEY VALUE | status
  vsr-client bench [--sessions N] [--duration S | --ops N] [--value-size B]
                   [--read-ratio R] [--keys K] [--json]
  (`vsr-client COMMAND --help` describes one command.)

Examples:
  vsr-client put greeting hello          # store a value
  vsr-client get greeting                # print it (raw bytes)
  echo -n hello | vsr-client put greeting -   # the value from standard input
  vsr-client cas greeting hello bonjour  # replace it only if it still holds "hello"
  vsr-client put -- temp -x              # after --, arguments that start with - are values
  vsr-client --cluster test status       # every replica's status board
  vsr-client bench --sessions 16 --duration 5 --json

Keys are 1 to 256 bytes, values at most 16384 bytes. A retry resends the same request,
which the cluster executes at most once.

Exit codes:
  0  success
  1  a definite negative answer: key not found (get, del), cas mismatch (the current
     value, or its absence, is printed on stderr), refused by the store (too large)
  2  usage error, including a key or value of a bad size: nothing was sent
  3  unavailable (no cluster, no free client slot, no primary: nothing was sent) or
     timed out / session evicted (the operation may or may not have happened))";

struct Args {
  std::string cluster = "default";
  int timeout_ms = 5000;
  std::string key;
  std::string value;
  std::string expected;
  cli::BenchOptions bench;
};

// `put KEY -` and `append KEY -` take the value from standard input.
int resolve_stdin_value(std::string& value) {
  if (value != "-") return cli::kExitSuccess;
  auto in = cli::read_bounded(stdin, vsr::client::kMaxValueBytes);
  if (!in) {
    std::fprintf(stderr, "vsr-client: cannot read the value from standard input\n");
    return cli::kExitUsage;
  }
  if (in->size() > vsr::client::kMaxValueBytes) {
    std::fprintf(stderr,
                 "vsr-client: the value on standard input is longer than 16384 bytes (nothing "
                 "was sent)\n");
    return cli::kExitUsage;
  }
  value = std::move(*in);
  return cli::kExitSuccess;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Client of a vsr-shm cluster (a replicated key-value service on this host).",
               "vsr-client");
  app.footer(kFooter);
  app.require_subcommand(1);
  Args a;
  app.add_option("--cluster", a.cluster, "Cluster name (its segment is /dev/shm/vsr-NAME)")
      ->capture_default_str();
  app.add_option("--timeout", a.timeout_ms,
                 "Milliseconds before an operation is given up as timed out")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();

  auto* put = app.add_subcommand("put", "Set KEY to VALUE ('-': read it from stdin)");
  auto* get = app.add_subcommand("get", "Print KEY's value");
  auto* del = app.add_subcommand("del", "Delete KEY");
  auto* cas = app.add_subcommand("cas", "Set KEY to NEW if it holds EXPECTED");
  auto* append = app.add_subcommand("append", "Append VALUE to KEY's value ('-': stdin)");
  auto* status = app.add_subcommand("status", "Print every replica's status board");
  auto* bench = app.add_subcommand("bench", "Closed-loop load; prints throughput and latency");
  for (auto* sub : {put, get, del, cas, append})
    sub->add_option("KEY", a.key)->required();
  put->add_option("VALUE", a.value)->required();
  append->add_option("VALUE", a.value)->required();
  cas->add_option("EXPECTED", a.expected)->required();
  cas->add_option("NEW", a.value)->required();

  auto* duration = bench->add_option("--duration", a.bench.duration_s, "Seconds to run")
                       ->check(CLI::Range(0.001, 86400.0))
                       ->capture_default_str();
  auto* ops = bench->add_option("--ops", a.bench.ops, "Operations to run (instead of a duration)")
                  ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  ops->excludes(duration);
  bench->add_option("--sessions", a.bench.sessions, "Sessions, each with one operation in flight")
      ->check(CLI::Range(std::size_t{1}, vsr::client::kMaxSessions))
      ->capture_default_str();
  bench->add_option("--value-size", a.bench.value_size, "Bytes of each value put")
      ->check(CLI::Range(std::size_t{0}, vsr::client::kMaxValueBytes))
      ->capture_default_str();
  bench->add_option("--read-ratio", a.bench.read_ratio, "Fraction of gets (the rest are puts)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  bench->add_option("--keys", a.bench.keys, "Distinct keys, chosen uniformly")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}))
      ->capture_default_str();
  bench->add_flag("--json", a.bench.json, "Print the results as one JSON object");
  // Global options may also follow the command: `vsr-client get k --cluster test`.
  for (auto* sub : {put, get, del, cas, append, status, bench})
    sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a misspelt command as a missing one; name it instead.
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty() && e.get_exit_code() != 0) {
      std::fprintf(stderr,
                   "vsr-client: unknown command '%s' (put, get, del, cas, append, status, "
                   "bench; --help explains them)\n",
                   extras.front().c_str());
      return cli::kExitUsage;
    }
    return app.exit(e) == 0 ? cli::kExitSuccess : cli::kExitUsage;
  }

  vsr::client::Options options;
  options.cluster = a.cluster;
  options.timeout = std::chrono::milliseconds(a.timeout_ms);
  options.attempt_timeout = std::min(options.attempt_timeout, options.timeout);

  if (status->parsed()) return cli::run_status(a.cluster);
  if (bench->parsed()) return cli::run_bench(options, a.bench);
  if (put->parsed() || append->parsed()) {
    if (const int code = resolve_stdin_value(a.value); code != cli::kExitSuccess) return code;
  }
  Op op;
  if (put->parsed()) op = Op::put(a.key, a.value);
  if (get->parsed()) op = Op::get(a.key);
  if (del->parsed()) op = Op::del(a.key);
  if (cas->parsed()) op = Op::cas(a.key, a.expected, a.value);
  if (append->parsed()) op = Op::append(a.key, a.value);
  return cli::run_operation(options, op);
}
