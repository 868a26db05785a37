// vsr-client, the program, against a fake cluster: outputs and exit codes of every
// command, standard input, status, and a short bench with --json.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/client/fake_cluster.h"

#ifndef VSR_CLIENT_EXE
#error "VSR_CLIENT_EXE must name the vsr-client program"
#endif

namespace vsr::client::test {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs vsr-client with `args`, `input` on its stdin; stdout and stderr go to files (so
// neither can fill a pipe and stall it).
CliRun run_cli(const std::vector<std::string>& args, const std::string& input = {}) {
  const std::string base = "/tmp/vsr-cli-test-" + std::to_string(::getpid());
  const std::string in_path = base + ".in", out_path = base + ".out", err_path = base + ".err";
  std::ofstream(in_path, std::ios::binary) << input;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(120);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    std::string exe = VSR_CLIENT_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(121);
  }
  CliRun r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  for (const std::string& p : {in_path, out_path, err_path})
    std::remove(p.c_str());
  return r;
}

class Cli : public ::testing::Test {
 protected:
  FakeCluster cluster{"cli"};
  CliRun client(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"--cluster", cluster.name(), "--timeout", "2000"});
    return run_cli(args, input);
  }
};

TEST_F(Cli, PutGetDel) {
  EXPECT_EQ(client({"put", "greeting", "hello"}).exit_code, 0);
  const CliRun get = client({"get", "greeting"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "hello") << "raw bytes, no newline when stdout is not a terminal";
  EXPECT_EQ(client({"del", "greeting"}).exit_code, 0);
  const CliRun missing = client({"get", "greeting"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  EXPECT_EQ(client({"del", "greeting"}).exit_code, 1);
}

TEST_F(Cli, CasPrintsTheCurrentValueOrItsAbsence) {
  CliRun r = client({"cas", "k", "a", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  ASSERT_EQ(client({"put", "k", "now"}).exit_code, 0);
  r = client({"cas", "k", "a", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds 'now'"), std::string::npos) << r.err;
  EXPECT_EQ(client({"cas", "k", "now", "then"}).exit_code, 0);
  EXPECT_EQ(cluster.value("k"), "then");
}

TEST_F(Cli, ValuesFromStandardInput) {
  const std::string binary("line 1\nline 2\0\xff", 15);
  EXPECT_EQ(client({"put", "k", "-"}, binary).exit_code, 0);
  EXPECT_EQ(cluster.value("k"), binary);
  EXPECT_EQ(client({"append", "k", "-"}, "!").exit_code, 0);
  EXPECT_EQ(client({"get", "k"}).out, binary + "!");
  const CliRun big = client({"put", "k", "-"}, std::string(16385, 'v'));
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(big.err.find("16384"), std::string::npos) << big.err;
  EXPECT_EQ(client({"put", "k", "-"}, std::string(16384, 'v')).exit_code, 0);
  EXPECT_EQ(client({"put", "--", "dash", "-x"}).exit_code, 0);
  EXPECT_EQ(cluster.value("dash"), "-x");
}

TEST_F(Cli, BadSizesAreUsageErrors) {
  const CliRun empty = client({"get", ""});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("the key is empty"), std::string::npos) << empty.err;
  EXPECT_EQ(client({"get", std::string(257, 'k')}).exit_code, 2);
  EXPECT_EQ(client({"put", "k", std::string(16385, 'v')}).exit_code, 2);
  EXPECT_TRUE(cluster.received().empty());
}

TEST_F(Cli, TimeoutSaysTheOutcomeIsUnknown) {
  cluster.set_policy([](std::uint32_t, const Request& request, const std::vector<Received>&) {
    return request.session.value() == 0 ? Decision{} : Decision{Verdict::drop, 0};
  });
  const CliRun r = run_cli({"--cluster", cluster.name(), "--timeout", "300", "put", "k", "v"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("may or may not have happened"), std::string::npos) << r.err;
}

TEST_F(Cli, StatusPrintsTheBoards) {
  cluster.publish_board(0, process::Role::primary, vsr::Status::normal, 3);
  cluster.publish_board(1, process::Role::backup, vsr::Status::view_change, 3);
  const CliRun r = client({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 replicas"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("primary"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("view-change"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("s ago"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("starting"), std::string::npos)
      << "replica 2 holds its id but never published\n"
      << r.out;
}

TEST_F(Cli, BenchJson) {
  const CliRun r = client(
      {"bench", "--sessions", "4", "--ops", "400", "--value-size", "32", "--keys", "10", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* field : {"\"ops_per_sec\": ", "\"p50_us\": ", "\"p90_us\": ", "\"p99_us\": ",
                            "\"p999_us\": ", "\"max_us\": ", "\"ops\": 400,"}) {
    EXPECT_NE(r.out.find(field), std::string::npos) << field << " missing from " << r.out;
  }
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
  EXPECT_EQ(cluster.registrations(), 4u);
  EXPECT_EQ(cluster.overlapping(), 0u);
}

TEST_F(Cli, BenchForADuration) {
  const CliRun r = client({"bench", "--sessions", "2", "--duration", "1.5", "--read-ratio", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ops/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p999"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("bench: 1 s"), std::string::npos) << "a progress line each second\n"
                                                         << r.err;
  for (const Received& op : cluster.operations()) {
    EXPECT_EQ(op.operation.front(), std::byte{1}) << "read ratio 1: gets only";
  }
}

}  // namespace
}  // namespace vsr::client::test
