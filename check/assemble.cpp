// Pairs each parser's raw events into operations and builds the History (check/raw_event.h).
#include <algorithm>
#include <string>
#include <unordered_map>

#include "check/raw_event.h"
#include "check/text.h"
#include "common/assert.h"

namespace vsr::check {
namespace {

constexpr std::size_t kNone = SIZE_MAX;

struct Pairing {
  std::size_t invoke = kNone;
  std::size_t completion = kNone;
};

ParseResult error_at(Line line, std::string message) {
  return ParseResult{History{}, ParseError{line, std::move(message)}};
}

std::optional<std::string> arguments_error(const RawEvent& e) {
  const std::string f(to_string(e.f));
  const std::size_t wanted = e.f == Fn::cas ? 2 : (e.f == Fn::put || e.f == Fn::append) ? 1 : 0;
  if (e.values.size() != wanted) {
    static constexpr const char* kArguments[] = {"no arguments", "one argument (the value)",
                                                 "two arguments (expected and new value)"};
    return "invoke " + f + " takes " + kArguments[wanted] + ", found " +
           std::to_string(e.values.size());
  }
  if (wanted == 1 && !e.values[0]) return f + " needs a value, not nil";
  return std::nullopt;
}

Op make_op(const RawEvent& e) {
  switch (e.f) {
    case Fn::get:
      return Op::get(e.key);
    case Fn::put:
      return Op::put(e.key, *e.values[0]);
    case Fn::del:
      return Op::del(e.key);
    case Fn::cas:
      return Op::cas(e.key, e.values[0], e.values[1]);
    case Fn::append:
      return Op::append(e.key, *e.values[0]);
  }
  VSR_ASSERT_MSG(false, "unknown Fn");
}

Outcome outcome_of(EventKind kind) {
  switch (kind) {
    case EventKind::ok:
      return Outcome::ok;
    case EventKind::fail:
      return Outcome::fail;
    case EventKind::info:
      return Outcome::info;
    case EventKind::invoke:
    case EventKind::drop:
      break;
  }
  VSR_ASSERT_MSG(false, "not a completion that stays in the history");
}

}  // namespace

ParseResult assemble(std::vector<RawEvent> events, Value initial_value) {
  std::stable_sort(events.begin(), events.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.time < b.time; });

  std::vector<Pairing> ops;
  std::unordered_map<std::uint64_t, std::size_t> outstanding;  // process -> index in ops
  for (std::size_t i = 0; i < events.size(); ++i) {
    const RawEvent& e = events[i];
    if (e.kind == EventKind::invoke) {
      if (const auto it = outstanding.find(e.process); it != outstanding.end()) {
        return error_at(e.line, "process " + std::to_string(e.process) +
                                    " invokes an operation while its operation invoked at line " +
                                    std::to_string(events[ops[it->second].invoke].line.value()) +
                                    " is outstanding");
      }
      if (auto error = arguments_error(e)) return error_at(e.line, std::move(*error));
      if (ops.size() == History::kMaxOps) {
        return error_at(
            e.line, "more than " + std::to_string(History::kMaxOps) + " operations in one history");
      }
      outstanding.emplace(e.process, ops.size());
      ops.push_back(Pairing{i, kNone});
      continue;
    }
    const auto it = outstanding.find(e.process);
    if (it == outstanding.end()) {
      return error_at(e.line, "process " + std::to_string(e.process) +
                                  " completes an operation but has none outstanding");
    }
    const RawEvent& invoke = events[ops[it->second].invoke];
    if (e.f != invoke.f || e.key != invoke.key) {
      return error_at(e.line, "completion " + std::string(to_string(e.f)) + " " + quote(e.key) +
                                  " does not match the invocation at line " +
                                  std::to_string(invoke.line.value()) + " (" +
                                  std::string(to_string(invoke.f)) + " " + quote(invoke.key) + ")");
    }
    if (e.kind != EventKind::drop) {
      if (auto error = completion_error(e.f, outcome_of(e.kind), e.values.size()))
        return error_at(e.line, std::move(*error));
    }
    ops[it->second].completion = i;
    outstanding.erase(it);
  }

  auto dropped = [&](const Pairing& p) {
    return p.completion != kNone && events[p.completion].kind == EventKind::drop;
  };
  std::unordered_map<std::string_view, std::size_t> ops_per_key;
  for (const Pairing& p : ops) {
    if (dropped(p)) continue;
    const RawEvent& invoke = events[p.invoke];
    if (++ops_per_key[invoke.key] > History::kMaxOpsPerKey) {
      return error_at(invoke.line, "key " + quote(invoke.key) + " has more than " +
                                       std::to_string(History::kMaxOpsPerKey) +
                                       " operations, the checker's limit per key");
    }
  }

  ParseResult result;
  result.history.set_initial_value(std::move(initial_value));
  std::vector<std::size_t> op_of_completion(events.size(), kNone);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].completion != kNone) op_of_completion[ops[i].completion] = i;
  }
  std::vector<OpId> history_id(ops.size());
  std::vector<bool> kept(ops.size(), false);
  std::size_t next_op = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    RawEvent& e = events[i];
    const Stamp stamp{e.time, e.line};
    if (e.kind == EventKind::invoke) {
      const std::size_t op = next_op++;
      VSR_ASSERT(ops[op].invoke == i);
      if (dropped(ops[op])) continue;
      kept[op] = true;
      history_id[op] = result.history.invoke(ProcessId{e.process}, make_op(e), stamp);
      continue;
    }
    const std::size_t op = op_of_completion[i];
    VSR_ASSERT(op != kNone);
    if (!kept[op]) continue;
    if (e.values.empty()) {
      result.history.complete(history_id[op], outcome_of(e.kind), stamp);
    } else {
      result.history.complete(history_id[op], outcome_of(e.kind), std::move(e.values[0]), stamp);
    }
  }
  return result;
}

}  // namespace vsr::check
