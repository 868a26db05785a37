// What every parser produces before a History exists: one event per line, with the format's
// own meaning already translated to the native one. assemble() then pairs invocations with
// completions per process, validates them and builds the History.
//
// Internal to the parsers; not part of the library's interface.
#pragma once

#include <cstdint>
#include <vector>

#include "check/history.h"
#include "check/parse.h"

namespace vsr::check {

enum class EventKind : std::uint8_t {
  invoke,
  ok,
  fail,  // a definite failure (del: absent; cas: mismatch)
  info,  // indeterminate
  drop,  // the operation certainly did not happen: it leaves the history
};

struct RawEvent {
  Time time;
  std::uint64_t process = 0;
  EventKind kind = EventKind::invoke;
  Fn f = Fn::get;
  std::string key;
  // invoke: the arguments (get: none, put: value, del: none, cas: expected new, append: value);
  // ok and fail: the results; info and drop: none.
  std::vector<Value> values;
  Line line{0};
};

// Events are ordered by time, ties in the given order.
ParseResult assemble(std::vector<RawEvent> events, Value initial_value);

ParseError too_long_line_error(Line line);

}  // namespace vsr::check
