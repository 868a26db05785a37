#include "check/model.h"

#include <algorithm>

#include "common/assert.h"

namespace vsr::check {

KeyModel::KeyModel(const Value& initial) {
  // The slots of kAbsent and kUnreadable, never looked up by content.
  values_.emplace_back();
  values_.emplace_back();
  unreadable_ = {false, true};
  initial_ = intern(initial);
}

StateId KeyModel::initial() const {
  VSR_ASSERT(sealed_);
  return state_of(initial_);
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
  // Values interned after seal() are readable prefixes (append() checks); seal() sets the
  // flags of the ones before.
  unreadable_.push_back(false);
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

void KeyModel::seal() {
  VSR_ASSERT(!sealed_);
  sealed_ = true;
  const auto compared = [this](StateId id) {
    if (id != kAbsent) compared_.push_back(std::string_view(values_[id]));
  };
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::read:
      case Kind::cas_ok:
      case Kind::cas_fail:
      case Kind::cas_unknown:
        compared(s.a);
        break;
      case Kind::cas_fail_saw:
        compared(s.a);
        compared(s.b);
        break;
      case Kind::write:
      case Kind::del_ok:
      case Kind::del_fail:
      case Kind::del_unknown:
      case Kind::append:
        break;
    }
  }
  std::sort(compared_.begin(), compared_.end());
  compared_.erase(std::unique(compared_.begin(), compared_.end()), compared_.end());
  bytes_ += compared_.size() * sizeof(std::string_view);
  for (StateId id = kUnreadable + 1; id < values_.size(); ++id)
    unreadable_[id] = !prefix_of_compared(std::string_view(values_[id]));
}

bool KeyModel::prefix_of_compared(std::string_view value) const {
  // The compared values that start with `value` form a run in sorted order, and the first
  // one not below `value` begins it if there is one.
  const auto it = std::lower_bound(compared_.begin(), compared_.end(), value);
  return it != compared_.end() && it->starts_with(value);
}

std::optional<StateId> KeyModel::step(StateId state, std::uint32_t index) {
  VSR_ASSERT(index < steps_.size());
  VSR_ASSERT(sealed_);
  const Step& s = steps_[index];
  switch (s.kind) {
    case Kind::read:
      if (state != s.a) return std::nullopt;
      return state;
    case Kind::write:
      return state_of(s.a);
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
      return state_of(s.b);
    case Kind::cas_fail:
      if (state == s.a) return std::nullopt;
      return state;
    case Kind::cas_fail_saw:
      if (state == s.a || state != s.b) return std::nullopt;
      return state;
    case Kind::cas_unknown:
      return state == s.a ? state_of(s.b) : state;
    case Kind::append:
      if (state == kUnreadable) return kUnreadable;
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
  // An unreadable value is not interned: the search would never tell it from the others.
  const StateId next =
      prefix_of_compared(std::string_view(joined)) ? intern(std::move(joined)) : kUnreadable;
  appended_.emplace(memo_key, next);
  bytes_ += sizeof(std::uint64_t) + sizeof(StateId);
  return next;
}

Value KeyModel::text(StateId id) const {
  VSR_ASSERT(id < values_.size() && id != kUnreadable);
  if (id == kAbsent) return std::nullopt;
  return values_[id];
}

Value KeyModel::replay(std::span<const std::uint32_t> steps) const {
  Value value = text(initial_);
  for (const std::uint32_t index : steps) {
    VSR_ASSERT(index < steps_.size());
    const Step& s = steps_[index];
    switch (s.kind) {
      case Kind::read:
      case Kind::del_fail:
      case Kind::cas_fail:
      case Kind::cas_fail_saw:
        break;
      case Kind::write:
        value = text(s.a);
        break;
      case Kind::del_ok:
      case Kind::del_unknown:
        value.reset();
        break;
      case Kind::cas_ok:
        value = text(s.b);
        break;
      case Kind::cas_unknown:
        if (value == text(s.a)) value = text(s.b);
        break;
      case Kind::append:
        if (!value) value.emplace();
        *value += suffixes_[s.a];
        break;
    }
  }
  return value;
}

}  // namespace vsr::check
