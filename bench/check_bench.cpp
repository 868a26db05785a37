// check-bench: how long the linearizability checker takes on the largest shared histories.
//
//   check-bench [--runs N] [DATA_DIR]
//
// Prints, per history, the median over N runs of parsing and of checking, in milliseconds.
// DATA_DIR defaults to the repository's copy (tests/check/data).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check/check.h"
#include "check/parse.h"

namespace {

namespace fs = std::filesystem;
using vsr::check::Format;

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

double time_ms(const std::function<void()>& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Measurement {
  double parse_ms = 0;
  double check_ms = 0;
  std::size_t ops = 0;
  vsr::check::Verdict verdict = vsr::check::Verdict::unknown;
};

// Parses and checks the histories `runs` times; the medians of the per-run totals.
Measurement measure(const std::vector<std::string>& texts, Format format, int runs) {
  std::vector<double> parse_samples, check_samples;
  Measurement m;
  for (int run = 0; run < runs; ++run) {
    double parse_ms = 0, check_ms = 0;
    m.ops = 0;
    for (const std::string& text : texts) {
      vsr::check::ParseResult parsed;
      parse_ms += time_ms([&] { parsed = vsr::check::parse(text, format); });
      if (parsed.error) {
        std::fprintf(stderr, "check-bench: line %u: %s\n", parsed.error->line.value(),
                     parsed.error->message.c_str());
        std::exit(2);
      }
      vsr::check::CheckResult result;
      check_ms += time_ms([&] { result = vsr::check::check(parsed.history); });
      m.ops += parsed.history.size();
      m.verdict = result.verdict;
    }
    parse_samples.push_back(parse_ms);
    check_samples.push_back(check_ms);
  }
  m.parse_ms = median(parse_samples);
  m.check_ms = median(check_samples);
  return m;
}

void report(std::string_view name, const Measurement& m, bool one_verdict) {
  std::printf("%-34s %7zu  %-17s %9.2f %9.2f\n", std::string(name).c_str(), m.ops,
              one_verdict ? std::string(vsr::check::to_string(m.verdict)).c_str() : "-", m.parse_ms,
              m.check_ms);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  fs::path data = VSR_CHECK_BENCH_DATA;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (!arg.starts_with("-")) {
      data = argv[i];
    } else {
      std::fprintf(stderr, "usage: check-bench [--runs N] [DATA_DIR]\n");
      return 2;
    }
  }
  const fs::path etcd = data / "jepsen-etcd";
  if (!fs::is_directory(etcd) || !fs::is_directory(data / "kv")) {
    std::fprintf(stderr, "check-bench: no jepsen-etcd/ and kv/ under %s\n", data.c_str());
    return 2;
  }

  std::printf("median of %d runs\n%-34s %7s  %-17s %9s %9s\n", runs, "history", "ops", "verdict",
              "parse ms", "check ms");
  for (const char* file : {"kv/c50-ok.txt", "kv/c50-bad.txt", "kv/c10-ok.txt", "kv/c10-bad.txt"})
    report(file, measure({read_text(data / file)}, Format::kv, runs), true);

  std::vector<fs::path> etcd_files;
  for (const auto& entry : fs::directory_iterator(etcd)) {
    if (entry.path().extension() == ".log") etcd_files.push_back(entry.path());
  }
  std::sort(etcd_files.begin(), etcd_files.end(), [](const fs::path& a, const fs::path& b) {
    return fs::file_size(a) != fs::file_size(b) ? fs::file_size(a) > fs::file_size(b) : a < b;
  });
  std::vector<std::string> all;
  std::vector<std::pair<Measurement, std::string>> each;
  for (const fs::path& path : etcd_files) {
    all.push_back(read_text(path));
    each.emplace_back(measure({all.back()}, Format::jepsen, runs), path.filename().string());
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(3, each.size()); ++i)
    report("jepsen-etcd/" + each[i].second + " (largest)", each[i].first, true);
  std::sort(each.begin(), each.end(),
            [](const auto& a, const auto& b) { return a.first.check_ms > b.first.check_ms; });
  for (std::size_t i = 0; i < std::min<std::size_t>(3, each.size()); ++i)
    report("jepsen-etcd/" + each[i].second + " (slowest)", each[i].first, true);
  report("jepsen-etcd: all " + std::to_string(all.size()) + " files",
         measure(all, Format::jepsen, runs), false);
  return 0;
}
