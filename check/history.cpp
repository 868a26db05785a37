#include "check/history.h"

#include "check/text.h"
#include "common/assert.h"

namespace vsr::check {

std::string_view to_string(Fn f) {
  switch (f) {
    case Fn::get:
      return "get";
    case Fn::put:
      return "put";
    case Fn::del:
      return "del";
    case Fn::cas:
      return "cas";
    case Fn::append:
      return "append";
  }
  VSR_ASSERT_MSG(false, "unknown Fn");
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::pending:
      return "pending";
    case Outcome::ok:
      return "ok";
    case Outcome::fail:
      return "fail";
    case Outcome::info:
      return "info";
  }
  VSR_ASSERT_MSG(false, "unknown Outcome");
}

Op Op::get(std::string key) {
  return Op{Fn::get, std::move(key), {}, {}};
}
Op Op::put(std::string key, std::string value) {
  return Op{Fn::put, std::move(key), std::move(value), {}};
}
Op Op::del(std::string key) {
  return Op{Fn::del, std::move(key), {}, {}};
}
Op Op::cas(std::string key, Value expected, Value desired) {
  return Op{Fn::cas, std::move(key), std::move(expected), std::move(desired)};
}
Op Op::append(std::string key, std::string value) {
  return Op{Fn::append, std::move(key), std::move(value), {}};
}

std::optional<std::string> completion_error(Fn f, Outcome outcome, std::size_t result_count) {
  const std::string name(to_string(f));
  switch (outcome) {
    case Outcome::pending:
      return "an operation cannot complete as pending";
    case Outcome::info:
      if (result_count != 0) return "an indeterminate (info) completion carries no result";
      return std::nullopt;
    case Outcome::ok:
      if (f == Fn::get) {
        if (result_count != 1) return std::string("get ok needs the value read (or nil)");
        return std::nullopt;
      }
      if (result_count != 0) return name + " ok carries no result";
      return std::nullopt;
    case Outcome::fail:
      if (f == Fn::del) {
        if (result_count != 0) return std::string("del fail carries no result");
        return std::nullopt;
      }
      if (f == Fn::cas) {
        if (result_count > 1) return std::string("cas fail carries at most the current value");
        return std::nullopt;
      }
      return name + " cannot fail (only del and cas can); use info if the outcome is unknown";
  }
  return "unknown outcome";
}

Time History::next_time(const Stamp& stamp) const {
  const Time time = stamp.time.value_or(Time{events_.size()});
  if (!ops_.empty()) {
    const OpRecord& last_op = ops_[events_.back().op.value()];
    const Time last = events_.back().completion ? last_op.complete_time : last_op.invoke_time;
    VSR_ASSERT_MSG(time >= last, "history events must be added in time order");
  }
  return time;
}

OpId History::invoke(ProcessId process, Op op, Stamp stamp) {
  VSR_ASSERT_MSG(ops_.size() < kMaxOps, "history has too many operations");
  if (op.f == Fn::put || op.f == Fn::append) VSR_ASSERT_MSG(op.arg, "put/append need a value");
  const OpId id{static_cast<std::uint32_t>(ops_.size())};
  const auto [it, inserted] = outstanding_.emplace(process, id);
  VSR_ASSERT_MSG(inserted, "a process has at most one operation outstanding");
  OpRecord record;
  record.process = process;
  record.op = std::move(op);
  record.invoke_event = static_cast<std::uint32_t>(events_.size());
  record.complete_event = OpRecord::kNoEvent;
  record.invoke_time = next_time(stamp);
  record.invoke_line = stamp.line;
  ops_.push_back(std::move(record));
  events_.push_back(Event{id, false});
  return id;
}

void History::complete(OpId id, Outcome outcome, Stamp stamp) {
  finish(id, outcome, false, {}, stamp);
}

void History::complete(OpId id, Outcome outcome, Value result, Stamp stamp) {
  finish(id, outcome, true, std::move(result), stamp);
}

void History::finish(OpId id, Outcome outcome, bool has_result, Value result, const Stamp& stamp) {
  VSR_ASSERT(id.value() < ops_.size());
  OpRecord& record = ops_[id.value()];
  VSR_ASSERT_MSG(record.outcome == Outcome::pending, "operation completed twice");
  const auto error = completion_error(record.op.f, outcome, has_result ? 1 : 0);
  VSR_ASSERT_MSG(!error, error->c_str());
  record.complete_time = next_time(stamp);
  record.outcome = outcome;
  record.has_result = has_result;
  record.result = std::move(result);
  record.complete_event = static_cast<std::uint32_t>(events_.size());
  record.complete_line = stamp.line;
  events_.push_back(Event{id, true});
  const std::size_t erased = outstanding_.erase(record.process);
  VSR_ASSERT(erased == 1);
}

const OpRecord& History::op(OpId id) const {
  VSR_ASSERT(id.value() < ops_.size());
  return ops_[id.value()];
}

void History::write_native(std::ostream& out) const {
  VSR_ASSERT_MSG(!initial_value_, "the native format starts every key absent");
  out << "# vsr-check native history: <time> <process> <invoke|ok|fail|info> <f> <key> ...\n";
  for (const Event& event : events_) {
    const OpRecord& r = ops_[event.op.value()];
    const std::string_view f = to_string(r.op.f);
    if (!event.completion) {
      out << r.invoke_time << ' ' << r.process << " invoke " << f << ' ' << quote(r.op.key);
      if (r.op.f == Fn::put || r.op.f == Fn::append || r.op.f == Fn::cas)
        out << ' ' << render(r.op.arg);
      if (r.op.f == Fn::cas) out << ' ' << render(r.op.arg2);
    } else {
      out << r.complete_time << ' ' << r.process << ' ' << to_string(r.outcome) << ' ' << f << ' '
          << quote(r.op.key);
      if (r.has_result) out << ' ' << render(r.result);
    }
    out << '\n';
  }
}

}  // namespace vsr::check
