#include "check/model.h"

#include "common/assert.h"

namespace vsr::check {

KeyModel::KeyModel(const Value& initial) {
  values_.emplace_back();  // slot of kAbsent, never looked up by content
  initial_ = intern(initial);
}

StateId KeyModel::intern(const Value& value) {
  if (!value) return kAbsent;
  return intern(std::string(*value));
}

StateId KeyModel::intern(std::string&& value) {
  if (const auto it = ids_.find(std::string_view(value)); it != ids_.end()) return it->second;
  VSR_ASSERT_MSG(values_.size() < UINT32_MAX, "too many distinct values for one key");
  const auto id = static_cast<StateId>(values_.size());
  const std::string& stored = values_.emplace_back(std::move(value));
  ids_.emplace(std::string_view(stored), id);
  bytes_ += stored.size() + sizeof(std::string) + 2 * sizeof(std::string_view);
  return id;
}

std::uint32_t KeyModel::add(const OpRecord& record) {
  const Op& op = record.op;
  const bool unknown = !record.determinate();
  VSR_ASSERT_MSG(!(unknown && op.f == Fn::get), "indeterminate gets have no effect: drop them");
  Step step{Kind::read};
  switch (op.f) {
    case Fn::get:
      step = {Kind::read, intern(record.result)};
      break;
    case Fn::put:
      step = {Kind::write, intern(op.arg)};
      break;
    case Fn::del:
      step = {unknown                         ? Kind::del_unknown
              : record.outcome == Outcome::ok ? Kind::del_ok
                                              : Kind::del_fail};
      break;
    case Fn::cas:
      if (unknown) {
        step = {Kind::cas_unknown, intern(op.arg), intern(op.arg2)};
      } else if (record.outcome == Outcome::ok) {
        step = {Kind::cas_ok, intern(op.arg), intern(op.arg2)};
      } else if (record.has_result) {
        step = {Kind::cas_fail_saw, intern(op.arg), intern(record.result)};
      } else {
        step = {Kind::cas_fail, intern(op.arg)};
      }
      break;
    case Fn::append:
      VSR_ASSERT(op.arg.has_value());
      step = {Kind::append, static_cast<StateId>(suffixes_.size())};
      suffixes_.push_back(*op.arg);
      bytes_ += op.arg->size() + sizeof(std::string);
      break;
  }
  steps_.push_back(step);
  return static_cast<std::uint32_t>(steps_.size() - 1);
}

std::optional<StateId> KeyModel::step(StateId state, std::uint32_t index) {
  VSR_ASSERT(index < steps_.size());
  const Step& s = steps_[index];
  switch (s.kind) {
    case Kind::read:
      if (state != s.a) return std::nullopt;
      return state;
    case Kind::write:
      return s.a;
    case Kind::del_ok:
      if (state == kAbsent) return std::nullopt;
      return kAbsent;
    case Kind::del_fail:
      if (state != kAbsent) return std::nullopt;
      return kAbsent;
    case Kind::del_unknown:
      return kAbsent;
    case Kind::cas_ok:
      if (state != s.a) return std::nullopt;
      return s.b;
    case Kind::cas_fail:
      if (state == s.a) return std::nullopt;
      return state;
    case Kind::cas_fail_saw:
      if (state == s.a || state != s.b) return std::nullopt;
      return state;
    case Kind::cas_unknown:
      return state == s.a ? s.b : state;
    case Kind::append:
      return append(state, index, s.a);
  }
  VSR_ASSERT_MSG(false, "unknown step kind");
}

StateId KeyModel::append(StateId state, std::uint32_t index, std::uint32_t suffix) {
  const std::uint64_t memo_key = (std::uint64_t{state} << 32) | index;
  if (const auto it = appended_.find(memo_key); it != appended_.end()) return it->second;
  const std::string& suffix_text = suffixes_[suffix];
  std::string joined;
  joined.reserve((state == kAbsent ? 0 : values_[state].size()) + suffix_text.size());
  if (state != kAbsent) joined = values_[state];
  joined += suffix_text;
  const StateId next = intern(std::move(joined));
  appended_.emplace(memo_key, next);
  bytes_ += sizeof(std::uint64_t) + sizeof(StateId);
  return next;
}

Value KeyModel::value(StateId state) const {
  VSR_ASSERT(state < values_.size());
  if (state == kAbsent) return std::nullopt;
  return values_[state];
}

}  // namespace vsr::check
