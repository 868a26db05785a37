#include "check/report.h"

#include <algorithm>

#include "check/text.h"

namespace vsr::check {
namespace {

// Long lists are cut: the first operations stuck and the last linearized are the useful ones.
constexpr std::size_t kMaxStuckShown = 40;
constexpr std::size_t kMaxLinearizedShown = 10;

std::string location(const OpRecord& r, OpId id) {
  if (r.invoke_line.value() == 0) return "op " + std::to_string(id.value());
  std::string where = "line";
  if (r.complete_line.value() != 0) where += "s";
  where += " " + std::to_string(r.invoke_line.value());
  if (r.complete_line.value() != 0) where += ", " + std::to_string(r.complete_line.value());
  return where;
}

std::string describe(const OpRecord& r) {
  std::string s(to_string(r.op.f));
  s += " " + quote(r.op.key);
  if (r.op.f == Fn::put || r.op.f == Fn::append || r.op.f == Fn::cas) s += " " + render(r.op.arg);
  if (r.op.f == Fn::cas) s += " " + render(r.op.arg2);
  s += " -> ";
  s += r.outcome == Outcome::pending ? "never completed" : std::string(to_string(r.outcome));
  if (r.has_result) s += " " + render(r.result);
  return s;
}

}  // namespace

std::string render(const History& history, OpId id) {
  const OpRecord& r = history.op(id);
  std::string s = location(r, id);
  s.resize(std::max<std::size_t>(s.size(), 16), ' ');
  s += "  process " + std::to_string(r.process.value()) + "  " + describe(r);
  return s;
}

void print_result(std::ostream& out, const History& history, const CheckResult& result) {
  out << to_string(result.verdict) << '\n';
  if (result.verdict == Verdict::unknown) {
    out << result.unknown_reason << '\n';
    return;
  }
  if (!result.failure) return;
  const Failure& f = *result.failure;
  out << "key " << quote(f.key) << ": no order of its " << f.key_ops
      << " operations agrees with both real time and their results.\n"
      << "The search got furthest with " << f.linearized.size()
      << " of them linearized, the key then holding " << render(f.value) << ".\n"
      << "From there none of these operations could come next:\n";
  for (std::size_t i = 0; i < f.stuck.size() && i < kMaxStuckShown; ++i) {
    out << "  " << render(history, f.stuck[i].op)
        << (f.stuck[i].contradicts ? "   [contradicts the value]"
                                   : "   [no linearization continues after it]")
        << '\n';
  }
  if (f.stuck.size() > kMaxStuckShown)
    out << "  ... and " << f.stuck.size() - kMaxStuckShown << " more\n";
  if (f.linearized.empty()) return;
  const std::size_t shown = std::min(f.linearized.size(), kMaxLinearizedShown);
  out << "The last " << shown << " operations linearized before that point, oldest first:\n";
  for (std::size_t i = f.linearized.size() - shown; i < f.linearized.size(); ++i)
    out << "  " << render(history, f.linearized[i]) << '\n';
}

}  // namespace vsr::check
