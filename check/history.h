// A history of key-value operations: what each client process invoked, in real-time order,
// and how each operation completed.
//
// The simulator and the chaos harness build one in memory (invoke, then complete); the parsers
// build one from a file. check() (check/check.h) decides whether it is linearizable.
//
//   vsr::check::History history;
//   const vsr::check::OpId put = history.invoke(vsr::check::ProcessId{1},
//                                               vsr::check::Op::put("k", "v"));
//   const vsr::check::OpId get = history.invoke(vsr::check::ProcessId{2},
//                                               vsr::check::Op::get("k"));
//   history.complete(put, vsr::check::Outcome::ok);
//   history.complete(get, vsr::check::Outcome::ok, std::nullopt);  // read "not found"
//
// The order of the calls is the real-time order: an operation precedes another iff it was
// completed before the other was invoked. An operation never completed, or completed with
// Outcome::info, is indeterminate: it may take effect at any time after its invocation, or never.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/strong_type.h"

namespace vsr::check {

using ProcessId = StrongInt<struct ProcessIdTag>;
using OpId = StrongInt<struct OpIdTag, std::uint32_t>;
// Nanoseconds of a monotonic clock or a virtual step counter; only its order matters.
using Time = StrongInt<struct TimeTag>;
// A line of the file a history was read from; 0 when the history was built in memory.
using Line = StrongInt<struct LineTag, std::uint32_t>;

// A key's value; std::nullopt is "absent" (never written, or deleted).
using Value = std::optional<std::string>;

enum class Fn : std::uint8_t { get, put, del, cas, append };
std::string_view to_string(Fn f);

struct Op {
  Fn f = Fn::get;
  std::string key;
  Value arg;   // put, append: the value; cas: the expected value
  Value arg2;  // cas: the new value

  static Op get(std::string key);
  static Op put(std::string key, std::string value);
  static Op del(std::string key);
  static Op cas(std::string key, Value expected, Value desired);
  // A missing key counts as empty, then `value` is appended.
  static Op append(std::string key, std::string value);
};

// How an operation ended:
//   ok   get (result: the value read, nullopt = not found), put, del (the key existed), cas
//        (swapped), append;
//   fail del (the key was absent), cas (the value differed from `expected`; an optional result
//        is the value seen, checked too);
//   info indeterminate: timed out, crashed, unknown.
enum class Outcome : std::uint8_t { pending, ok, fail, info };
std::string_view to_string(Outcome outcome);

// Why `f` cannot complete with `outcome` and `result_count` results (0 or 1), or nullopt if it can.
std::optional<std::string> completion_error(Fn f, Outcome outcome, std::size_t result_count);

// Where and when an event happened. Without a time, the event's index in the history is used.
struct Stamp {
  std::optional<Time> time;
  Line line{0};
};

struct OpRecord {
  ProcessId process;
  Op op;
  Outcome outcome = Outcome::pending;
  bool has_result = false;
  Value result;
  // Positions in History::events(); the completion is kNoEvent while pending.
  std::uint32_t invoke_event = 0;
  std::uint32_t complete_event = 0;
  Time invoke_time;
  Time complete_time;
  Line invoke_line{0};
  Line complete_line{0};

  static constexpr std::uint32_t kNoEvent = UINT32_MAX;
  // ok or fail: the result is known and is checked.
  bool determinate() const { return outcome == Outcome::ok || outcome == Outcome::fail; }
};

struct Event {
  OpId op;
  bool completion = false;
};

class History {
 public:
  // Bounds that keep one check within memory: the search keeps a bitset over a key's
  // operations per memoised state.
  static constexpr std::size_t kMaxOps = std::size_t{1} << 26;
  static constexpr std::size_t kMaxOpsPerKey = std::size_t{1} << 16;

  // The process must have no operation outstanding. The time must not go backwards.
  OpId invoke(ProcessId process, Op op, Stamp stamp = {});
  // Completes a pending operation; the (f, outcome, result) combination must be one listed
  // at Outcome (completion_error() says why not).
  void complete(OpId id, Outcome outcome, Stamp stamp = {});
  void complete(OpId id, Outcome outcome, Value result, Stamp stamp = {});

  // The value every key holds before the first operation: absent by default. The kv file
  // format starts every key at "" (a never-written key reads as the empty string).
  void set_initial_value(Value value) { initial_value_ = std::move(value); }
  const Value& initial_value() const { return initial_value_; }

  const OpRecord& op(OpId id) const;
  std::span<const OpRecord> ops() const { return ops_; }
  std::span<const Event> events() const { return events_; }
  std::size_t size() const { return ops_.size(); }

  // Writes the native format (check/FORMAT.md). Needs initial_value() absent, as the format
  // defines every key to start absent.
  void write_native(std::ostream& out) const;

 private:
  Time next_time(const Stamp& stamp) const;
  void finish(OpId id, Outcome outcome, bool has_result, Value result, const Stamp& stamp);

  std::vector<OpRecord> ops_;
  std::vector<Event> events_;
  std::unordered_map<ProcessId, OpId> outstanding_;
  Value initial_value_;
};

}  // namespace vsr::check
