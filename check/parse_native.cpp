// The project's own history format, written by the simulator and the chaos harness
// (check/FORMAT.md).
#include <vector>

#include "check/parse.h"
#include "check/raw_event.h"
#include "check/text.h"

namespace vsr::check {
namespace {

// No native line has more values than cas's expected and new.
constexpr std::size_t kMaxValuesPerLine = 2;

std::optional<EventKind> kind_from(std::string_view word) {
  if (word == "invoke") return EventKind::invoke;
  if (word == "ok") return EventKind::ok;
  if (word == "fail") return EventKind::fail;
  if (word == "info") return EventKind::info;
  return std::nullopt;
}

std::optional<Fn> fn_from(std::string_view word) {
  if (word == "get") return Fn::get;
  if (word == "put") return Fn::put;
  if (word == "del") return Fn::del;
  if (word == "cas") return Fn::cas;
  if (word == "append") return Fn::append;
  return std::nullopt;
}

// Parses one non-comment line into `event`; returns an error message or "".
std::string parse_line(std::string_view line, RawEvent& event) {
  Cursor c(line);
  c.skip_space();
  const auto time = c.unsigned_integer("the time");
  if (!time) return c.error();
  event.time = Time{*time};
  c.skip_space();
  const auto process = c.unsigned_integer("the process");
  if (!process) return c.error();
  event.process = *process;
  c.skip_space();
  const std::string_view kind_word = c.word();
  const auto kind = kind_from(kind_word);
  if (!kind) return "expected invoke, ok, fail or info, found '" + std::string(kind_word) + "'";
  event.kind = *kind;
  c.skip_space();
  const std::string_view f_word = c.word();
  const auto f = fn_from(f_word);
  if (!f) return "expected get, put, del, cas or append, found '" + std::string(f_word) + "'";
  event.f = *f;
  c.skip_space();
  auto key = c.quoted("the key");
  if (!key) return c.error();
  event.key = std::move(*key);
  while (true) {
    if (!c.at_end() && c.peek() != ' ' && c.peek() != '\t')
      return "expected whitespace before '" + std::string(c.rest().substr(0, 20)) + "'";
    c.skip_space();
    if (c.at_end()) return {};
    if (event.values.size() == kMaxValuesPerLine)
      return "too many values (at most " + std::to_string(kMaxValuesPerLine) + ")";
    auto value = c.value("a value");
    if (!value) return c.error();
    event.values.push_back(std::move(*value));
  }
}

}  // namespace

ParseResult parse_native(std::string_view text) {
  std::vector<RawEvent> events;
  std::optional<ParseError> error;
  std::uint32_t too_long = 0;
  const bool complete = for_each_line(
      text,
      [&](std::uint32_t number, std::string_view line) {
        Cursor c(line);
        c.skip_space();
        if (c.at_end() || c.peek() == '#') return true;
        RawEvent event;
        event.line = Line{number};
        std::string message = parse_line(line, event);
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
