// Jepsen-style kv histories: one EDN-like map per line,
//   {:process 0, :type :ok, :f :get, :key "3", :value "x 0 1 y"}
// with :f one of :get, :put, :append. A never-written key reads as "", so every key starts at
// "". :fail means the operation certainly did not happen (it is dropped); :info is
// indeterminate. Other map entries are ignored, as EDN readers do.
#include <vector>

#include "check/parse.h"
#include "check/raw_event.h"
#include "check/text.h"

namespace vsr::check {
namespace {

struct Scalar {
  enum class Kind : std::uint8_t { nil, string, integer, keyword } kind = Kind::nil;
  std::string text;
};

struct Fields {
  std::optional<Scalar> process, type, f, key, value;
};

// Reads one scalar value: "string", nil, an integer or a :keyword.
std::optional<Scalar> scalar(Cursor& c, std::string& error) {
  if (c.peek() == '"') {
    auto s = c.quoted("a string");
    if (!s) {
      error = c.error();
      return std::nullopt;
    }
    return Scalar{Scalar::Kind::string, std::move(*s)};
  }
  const std::string_view w = c.word(",}");
  if (w == "nil") return Scalar{Scalar::Kind::nil, {}};
  if (w.size() > 1 && w.front() == ':') return Scalar{Scalar::Kind::keyword, std::string(w)};
  if (!w.empty() && w.find_first_not_of("0123456789") == std::string_view::npos)
    return Scalar{Scalar::Kind::integer, std::string(w)};
  error = "expected a string, nil, an integer or a keyword, found '" + std::string(w) + "'";
  return std::nullopt;
}

// Reads the map on `line` into `fields`; returns an error message or "".
std::string parse_map(std::string_view line, Fields& fields) {
  Cursor c(line);
  c.skip_space();
  if (!c.consume("{")) return "expected '{' to open a map";
  while (true) {
    c.skip_any(", \t");
    if (c.consume("}")) break;
    if (c.at_end()) return "unterminated map: expected '}'";
    const std::string_view name = c.word(",}");
    if (name.size() < 2 || name.front() != ':')
      return "expected a :keyword as map key, found '" + std::string(name) + "'";
    c.skip_space();
    std::string error;
    auto value = scalar(c, error);
    if (!value) return error + " (for " + std::string(name) + ")";
    std::optional<Scalar>* slot = name == ":process" ? &fields.process
                                  : name == ":type"  ? &fields.type
                                  : name == ":f"     ? &fields.f
                                  : name == ":key"   ? &fields.key
                                  : name == ":value" ? &fields.value
                                                     : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) return "duplicate " + std::string(name);
    *slot = std::move(*value);
  }
  c.skip_space();
  if (!c.at_end()) return "unexpected text after the map: '" + std::string(c.rest()) + "'";
  return {};
}

std::string to_event(Fields& fields, RawEvent& event) {
  if (!fields.process || fields.process->kind != Scalar::Kind::integer)
    return "missing :process (an unsigned integer)";
  Cursor process(fields.process->text);
  const auto number = process.unsigned_integer(":process");
  if (!number) return process.error();
  event.process = *number;

  if (!fields.type || fields.type->kind != Scalar::Kind::keyword)
    return "missing :type (:invoke, :ok, :fail or :info)";
  const std::string& type = fields.type->text;
  if (type == ":invoke") {
    event.kind = EventKind::invoke;
  } else if (type == ":ok") {
    event.kind = EventKind::ok;
  } else if (type == ":fail") {
    event.kind = EventKind::drop;
  } else if (type == ":info") {
    event.kind = EventKind::info;
  } else {
    return "expected :type :invoke, :ok, :fail or :info, found " + type;
  }

  if (!fields.f || fields.f->kind != Scalar::Kind::keyword)
    return "missing :f (:get, :put or :append)";
  const std::string& f = fields.f->text;
  if (f == ":get") {
    event.f = Fn::get;
  } else if (f == ":put") {
    event.f = Fn::put;
  } else if (f == ":append") {
    event.f = Fn::append;
  } else {
    return "expected :f :get, :put or :append, found " + f;
  }

  if (!fields.key || fields.key->kind != Scalar::Kind::string) return "missing :key (a string)";
  event.key = std::move(fields.key->text);

  if (!fields.value) return "missing :value";
  const bool is_string = fields.value->kind == Scalar::Kind::string;
  if (!is_string && fields.value->kind != Scalar::Kind::nil)
    return ":value must be a string or nil";
  // Invocations of put and append carry their argument; a get's completion its result.
  const bool carries_value = (event.kind == EventKind::invoke && event.f != Fn::get) ||
                             (event.kind == EventKind::ok && event.f == Fn::get);
  if (carries_value) {
    event.values.push_back(is_string ? Value(std::move(fields.value->text)) : Value{});
  }
  return {};
}

}  // namespace

ParseResult parse_kv(std::string_view text) {
  std::vector<RawEvent> events;
  std::optional<ParseError> error;
  std::uint32_t too_long = 0;
  const bool complete = for_each_line(
      text,
      [&](std::uint32_t number, std::string_view line) {
        if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
        Fields fields;
        std::string message = parse_map(line, fields);
        RawEvent event;
        if (message.empty()) message = to_event(fields, event);
        if (!message.empty()) {
          error = ParseError{Line{number}, std::move(message)};
          return false;
        }
        event.time = Time{number};
        event.line = Line{number};
        events.push_back(std::move(event));
        return true;
      },
      too_long);
  if (!complete) return {History{}, too_long_line_error(Line{too_long})};
  if (error) return {History{}, std::move(error)};
  return assemble(std::move(events), Value(std::string()));
}

}  // namespace vsr::check
