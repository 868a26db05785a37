// Jepsen etcd logs: one register, one event per "jepsen.util - <process>\t<type>\t<f>\t<value>"
// line; every other line is noise. Line order is real-time order.
//
// The register maps onto one key of the kv model: read = get, write = put, cas [a b] = cas a b,
// values kept as their decimal text. A :fail read or write certainly did not happen and is
// dropped; a :fail cas ran and found a different value; :info is indeterminate.
#include <vector>

#include "check/parse.h"
#include "check/raw_event.h"
#include "check/text.h"

namespace vsr::check {
namespace {

constexpr std::string_view kMarker = "jepsen.util - ";
constexpr std::string_view kRegisterKey = "register";

bool is_integer(std::string_view s) {
  if (s.starts_with('-')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A register value: nil or an integer.
std::optional<Value> register_value(std::string_view s) {
  if (s == "nil") return Value{};
  if (is_integer(s)) return Value(std::string(s));
  return std::nullopt;
}

// Parses the `type f value` part of an event line; returns an error message or "".
std::string parse_event(Cursor& c, RawEvent& event) {
  const std::string_view type = c.word();
  if (type == ":invoke") {
    event.kind = EventKind::invoke;
  } else if (type == ":ok") {
    event.kind = EventKind::ok;
  } else if (type == ":fail") {
    event.kind = EventKind::fail;
  } else if (type == ":info") {
    event.kind = EventKind::info;
  } else {
    return "expected :invoke, :ok, :fail or :info, found '" + std::string(type) + "'";
  }
  c.skip_space();
  const std::string_view f = c.word();
  c.skip_space();
  std::string_view value = c.rest();
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);

  if (f == ":read") {
    event.f = Fn::get;
    if (event.kind == EventKind::fail) event.kind = EventKind::drop;
    if (event.kind != EventKind::ok) return {};
    auto read = register_value(value);
    if (!read) return "a read returns nil or an integer, found '" + std::string(value) + "'";
    event.values.push_back(std::move(*read));
    return {};
  }
  if (f == ":write") {
    event.f = Fn::put;
    if (event.kind == EventKind::fail) event.kind = EventKind::drop;
    if (event.kind != EventKind::invoke) return {};
    if (!is_integer(value)) return "a write takes an integer, found '" + std::string(value) + "'";
    event.values.emplace_back(std::string(value));
    return {};
  }
  if (f == ":cas") {
    event.f = Fn::cas;
    if (event.kind != EventKind::invoke) return {};
    Cursor pair(value);
    if (!pair.consume("[")) return "a cas takes [expected new], found '" + std::string(value) + "'";
    pair.skip_space();
    const auto expected = register_value(pair.word("]"));
    pair.skip_space();
    const auto desired = register_value(pair.word("]"));
    pair.skip_space();
    if (!expected || !desired || !pair.consume("]") || !pair.at_end())
      return "a cas takes [expected new], found '" + std::string(value) + "'";
    event.values.push_back(*expected);
    event.values.push_back(*desired);
    return {};
  }
  return "expected :read, :write or :cas, found '" + std::string(f) + "'";
}

}  // namespace

ParseResult parse_jepsen(std::string_view text) {
  std::vector<RawEvent> events;
  std::optional<ParseError> error;
  std::uint32_t too_long = 0;
  const bool complete = for_each_line(
      text,
      [&](std::uint32_t number, std::string_view line) {
        const std::size_t at = line.find(kMarker);
        if (at == std::string_view::npos) return true;
        Cursor c(line.substr(at + kMarker.size()));
        // Only client processes are numbers; the nemesis and other actors are noise here.
        const std::string_view process_word = c.word();
        if (process_word.empty() || !is_integer(process_word) || process_word.starts_with('-'))
          return true;
        Cursor process_cursor(process_word);
        const auto process = process_cursor.unsigned_integer("the process");
        if (!process) {
          error = ParseError{Line{number}, process_cursor.error()};
          return false;
        }
        RawEvent event;
        event.time = Time{number};
        event.line = Line{number};
        event.process = *process;
        event.key = std::string(kRegisterKey);
        c.skip_space();
        std::string message = parse_event(c, event);
        if (!message.empty()) {
          error = ParseError{Line{number}, std::move(message)};
          return false;
        }
        events.push_back(std::move(event));
        return true;
      },
      too_long);
  if (!complete) return {History{}, too_long_line_error(Line{too_long})};
  if (error) return {History{}, std::move(error)};
  return assemble(std::move(events), std::nullopt);
}

}  // namespace vsr::check
