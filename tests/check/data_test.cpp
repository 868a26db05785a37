// The shared histories with known verdicts (tests/check/data, from Porcupine), and proof that
// the checker has teeth: changing one read of a linearizable history is caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "check/check.h"
#include "check/parse.h"

namespace vsr::check {
namespace {

namespace fs = std::filesystem;

const fs::path kData = VSR_CHECK_TESTDATA;

struct Case {
  std::string file;  // relative to kData
  Format format;
  bool linearizable;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* out) {
  *out << c.file;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  std::ifstream verdicts(kData / "jepsen-etcd" / "VERDICTS");
  std::string file, verdict;
  while (verdicts >> file >> verdict)
    cases.push_back({"jepsen-etcd/" + file, Format::jepsen, verdict == "linearizable"});
  std::error_code ec;
  std::vector<std::string> kv;
  for (const auto& entry : fs::directory_iterator(kData / "kv", ec))
    kv.push_back(entry.path().filename().string());
  std::sort(kv.begin(), kv.end());
  for (const std::string& name : kv)
    cases.push_back({"kv/" + name, Format::kv, name.ends_with("-ok.txt")});
  return cases;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += line + "\n";
  return text;
}

CheckResult check_text(const std::string& text, Format format) {
  const ParseResult parsed = parse(text, format);
  EXPECT_FALSE(parsed.error.has_value()) << parsed.error->message;
  Options options;
  options.timeout = std::chrono::seconds(10);
  return check(parsed.history, options);
}

TEST(SharedData, IsComplete) {
  // Fails loudly rather than letting the parameterised tests below vanish.
  const std::vector<Case> cases = all_cases();
  EXPECT_EQ(std::count_if(cases.begin(), cases.end(),
                          [](const Case& c) { return c.format == Format::jepsen; }),
            50);
  EXPECT_EQ(std::count_if(cases.begin(), cases.end(),
                          [](const Case& c) { return c.format == Format::kv; }),
            6);
}

class SharedHistory : public testing::TestWithParam<Case> {};

TEST_P(SharedHistory, MatchesItsVerdict) {
  const Case& c = GetParam();
  const std::string text = read_text(kData / c.file);
  ASSERT_FALSE(text.empty()) << c.file;
  EXPECT_EQ(detect_format(text), c.format);
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = check_text(text, c.format);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  RecordProperty("check_seconds", std::to_string(elapsed.count()));
  ASSERT_EQ(r.verdict, c.linearizable ? Verdict::linearizable : Verdict::not_linearizable)
      << c.file << ": " << r.unknown_reason;
  if (!c.linearizable) {
    ASSERT_TRUE(r.failure.has_value());
    EXPECT_FALSE(r.failure->stuck.empty());
    if (c.format == Format::jepsen) {
      EXPECT_EQ(r.failure->key, "register");
    }
  }
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.file;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Data, SharedHistory, testing::ValuesIn(all_cases()), case_name);

std::vector<Case> linearizable_etcd_cases() {
  std::vector<Case> cases = all_cases();
  std::erase_if(cases, [](const Case& c) { return c.format != Format::jepsen || !c.linearizable; });
  return cases;
}

class EtcdTeeth : public testing::TestWithParam<Case> {};

// Every completed read of a linearizable etcd history, changed to a value never written.
TEST_P(EtcdTeeth, ReadOfAnUnwrittenValueIsCaught) {
  const Case& c = GetParam();
  const std::vector<std::string> lines = split_lines(read_text(kData / c.file));
  int mutations = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t at = lines[i].find("\t:ok\t:read\t");
    if (at == std::string::npos) continue;
    std::vector<std::string> mutated = lines;
    mutated[i] = lines[i].substr(0, at) + "\t:ok\t:read\t99";
    const CheckResult r = check_text(join_lines(mutated), Format::jepsen);
    EXPECT_EQ(r.verdict, Verdict::not_linearizable) << c.file << " line " << i + 1;
    ++mutations;
  }
  EXPECT_GT(mutations, 10);
}

INSTANTIATE_TEST_SUITE_P(Data, EtcdTeeth, testing::ValuesIn(linearizable_etcd_cases()), case_name);

// The value of the :value "..." entry of a kv line, and where it starts.
std::pair<std::size_t, std::string> kv_value(const std::string& line) {
  const std::size_t start = line.find(":value \"") + 8;
  return {start, line.substr(start, line.find('"', start) - start)};
}

std::string kv_key(const std::string& line) {
  const std::size_t start = line.find(":key \"") + 6;
  return line.substr(start, line.find('"', start) - start);
}

std::string with_value(const std::string& line, const std::string& value) {
  const auto [start, old] = kv_value(line);
  return line.substr(0, start) + value + line.substr(start + old.size());
}

// c01-ok has one client, so it is sequential: a read that returns the key's previous value
// (values never recur: each write is unique) is stale and must be caught, on its own key.
TEST(Teeth, StaleReadInSequentialKvHistoryIsCaught) {
  const std::vector<std::string> lines = split_lines(read_text(kData / "kv/c01-ok.txt"));
  std::map<std::string, std::string> last_read;
  int mutations = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(":type :ok, :f :get") == std::string::npos) continue;
    const std::string key = kv_key(lines[i]);
    const std::string value = kv_value(lines[i]).second;
    const auto previous = last_read.find(key);
    if (previous != last_read.end() && previous->second != value) {
      std::vector<std::string> mutated = lines;
      mutated[i] = with_value(lines[i], previous->second);
      const CheckResult r = check_text(join_lines(mutated), Format::kv);
      EXPECT_EQ(r.verdict, Verdict::not_linearizable) << "line " << i + 1;
      if (r.failure) {
        EXPECT_EQ(r.failure->key, key) << "line " << i + 1;
      }
      ++mutations;
    }
    last_read[key] = value;
  }
  EXPECT_GT(mutations, 5);
}

// Changes every `every`-th read of a concurrent kv history to a value no order of appends can
// produce; each change must be caught, on the key of the read.
void expect_impossible_kv_reads_caught(const std::string& file, int every) {
  const std::vector<std::string> lines = split_lines(read_text(kData / file));
  int reads = 0;
  int mutations = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(":type :ok, :f :get") == std::string::npos) continue;
    if (++reads % every != 0) continue;
    std::vector<std::string> mutated = lines;
    mutated[i] = with_value(lines[i], kv_value(lines[i]).second + "x 99 99 y");
    const CheckResult r = check_text(join_lines(mutated), Format::kv);
    EXPECT_EQ(r.verdict, Verdict::not_linearizable) << file << " line " << i + 1;
    if (r.failure) {
      EXPECT_EQ(r.failure->key, kv_key(lines[i])) << file << " line " << i + 1;
    }
    ++mutations;
  }
  EXPECT_GT(mutations, 15);
}

TEST(Teeth, KvReadOfAnImpossibleValueIsCaughtIn10ClientHistory) {
  expect_impossible_kv_reads_caught("kv/c10-ok.txt", 1);
}

// A sample of the reads, to stay fast.
TEST(Teeth, KvReadOfAnImpossibleValueIsCaughtIn50ClientHistory) {
  expect_impossible_kv_reads_caught("kv/c50-ok.txt", 40);
}

}  // namespace
}  // namespace vsr::check
