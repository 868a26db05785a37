// The search keeps the key's call and return events in a doubly linked list in real-time order.
// Linearizing an operation lifts its call and return out of the list; backtracking puts them
// back (they keep their own links, so unlifting in reverse order restores the list exactly).
// The candidates for the next linearization point are the calls before the first return in
// the list: an operation whose return comes first must be linearized before anything invoked
// after that return.
//
// Two prunings on top of Lowe's memo:
//
// An operation that never changes the value (a completed get, a failed del or cas) and is
// valid now can be linearized at once. Any linearization that places it later stays valid with
// it moved to the front: the value it sees is the same, everything after sees the same values,
// and being a candidate, nothing must precede it. So if the configuration after it is dead, the
// current one is too, and no other candidate is tried.
//
// A configuration (S + i, v), where i is indeterminate, can do nothing that (S, v) cannot:
// i is optional, and its return lies at infinity, so it never holds back another operation.
// So once (S, v) has been reached, (S + i, v) is skipped. Without this, every subset of the
// pending indeterminate operations would be a configuration of its own.
//
// A third reduction lives in the model (KeyModel::seal()): values no operation can ever read
// are one state, so the orders of appends nobody reads do not multiply the configurations.
#include "check/search.h"

#include "check/model.h"
#include "check/state_cache.h"
#include "common/assert.h"

namespace vsr::check {
namespace {

// How many search steps run between two looks at the clock.
constexpr std::uint64_t kStepsPerClockCheck = 4096;
// How many of the most recently linearized indeterminate operations the dominance pruning
// tries to leave out; each try is one memo lookup.
constexpr std::size_t kDominanceChecks = 8;

class EventList {
 public:
  // Node 0 is the head sentinel, node 2n+1 the tail; the nodes in between are the events in
  // `events` order.
  EventList(std::size_t ops, const std::vector<std::uint32_t>& events)
      : nodes_(events.size() + 2), call_(ops), return_(ops) {
    VSR_ASSERT(events.size() == 2 * ops);
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      const std::uint32_t node = i + 1;
      nodes_[node] = {i, i + 2, events[i] / 2, (events[i] & 1) != 0};
      (nodes_[node].is_return ? return_ : call_)[events[i] / 2] = node;
    }
    nodes_[0] = {0, 1, 0, false};
    nodes_[tail()] = {tail() - 1, tail(), 0, true};
  }

  std::uint32_t first() const { return nodes_[0].next; }
  std::uint32_t next(std::uint32_t node) const { return nodes_[node].next; }
  std::uint32_t tail() const { return static_cast<std::uint32_t>(nodes_.size() - 1); }
  // The tail counts as a return, so walks over candidates stop there too.
  bool is_return(std::uint32_t node) const { return nodes_[node].is_return; }
  std::uint32_t op(std::uint32_t node) const { return nodes_[node].op; }
  std::uint32_t call_of(std::uint32_t op) const { return call_[op]; }

  void lift(std::uint32_t op) {
    unlink(call_[op]);
    unlink(return_[op]);
  }
  void unlift(std::uint32_t op) {
    relink(return_[op]);
    relink(call_[op]);
  }

 private:
  struct Node {
    std::uint32_t prev;
    std::uint32_t next;
    std::uint32_t op;
    bool is_return;
  };
  void unlink(std::uint32_t n) {
    nodes_[nodes_[n].prev].next = nodes_[n].next;
    nodes_[nodes_[n].next].prev = nodes_[n].prev;
  }
  void relink(std::uint32_t n) {
    nodes_[nodes_[n].prev].next = n;
    nodes_[nodes_[n].next].prev = n;
  }

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> call_;
  std::vector<std::uint32_t> return_;
};

struct Frame {
  std::uint32_t op;
  StateId state_before;
  // Taken by the pruning above: when it fails, the configuration before it fails too.
  bool forced;
};

}  // namespace

class KeySearch::Impl {
 public:
  Impl(const History& history, const KeyOps& key)
      : key_(key),
        model_(history.initial_value()),
        list_(key.ops.size(), key.events),
        linearized_(key.ops.size()) {
    for (std::uint32_t i = 0; i < key.ops.size(); ++i) {
      const OpRecord& record = history.op(key.ops[i]);
      const std::uint32_t index = model_.add(record);
      VSR_ASSERT(index == i);
      determinate_.push_back(record.determinate());
      if (record.determinate()) ++determinate_total_;
      if (!record.determinate()) ++indeterminate_total_;
      const Fn f = record.op.f;
      const bool fails = record.determinate() && record.outcome == Outcome::fail;
      keeps_value_.push_back(f == Fn::get || (fails && (f == Fn::del || f == Fn::cas)));
    }
    model_.seal();
    state_ = model_.initial();
    stack_.reserve(key.ops.size());
    node_ = list_.first();
    // The start is a configuration too: the dominance pruning looks it up.
    cache_.insert(linearized_, state_);
  }

  bool run(std::uint64_t steps, std::optional<std::chrono::steady_clock::time_point> deadline);

  CheckResult result_;
  bool done_ = false;
  std::size_t bytes() const { return cache_.bytes() + model_.bytes(); }

 private:
  // Linearizes `op` if the configuration after it is new; false if it was explored before.
  bool try_linearize(std::uint32_t op, StateId next, bool forced);
  // Whether the current linearized set with `state` is dominated by an explored configuration
  // that lacks one of the latest indeterminate operations.
  bool dominated(StateId state);
  // Linearizes a valid value-keeping candidate if there is one. Returns false if there is,
  // but the configuration after it was explored before: the current one is then dead.
  bool force_value_keeping(bool& taken);
  // Undoes linearizations after a dead end; false when there is nothing left to undo.
  bool backtrack();
  void remember_deepest();

  const KeyOps& key_;
  KeyModel model_;
  EventList list_;
  LinearizedSet linearized_;
  StateCache cache_;
  std::vector<Frame> stack_;
  // The indeterminate operations in stack_, oldest first.
  std::vector<std::uint32_t> indeterminate_linearized_;
  std::vector<bool> determinate_;  // by local index
  std::vector<bool> keeps_value_;  // by local index
  std::size_t determinate_total_ = 0;
  std::size_t indeterminate_total_ = 0;
  std::size_t determinate_done_ = 0;
  StateId state_ = kAbsent;
  std::uint32_t node_ = 0;
  // The current configuration is new: look for a value-keeping candidate first.
  bool entered_ = true;
  // Candidates are tried in two passes, determinate operations first: configurations with
  // fewer indeterminate operations are then reached first, and prune the others.
  bool indeterminate_pass_ = false;
  // The deepest stack seen, and whether the configuration there is still to be recorded.
  std::size_t deepest_ = 0;
  bool deepest_pending_ = true;
  Failure failure_;
};

bool KeySearch::Impl::try_linearize(std::uint32_t op, StateId next, bool forced) {
  linearized_.set(op);
  if (!determinate_[op]) indeterminate_linearized_.push_back(op);
  if (dominated(next) || !cache_.insert(linearized_, next)) {
    if (!determinate_[op]) indeterminate_linearized_.pop_back();
    linearized_.clear(op);
    return false;
  }
  stack_.push_back({op, state_, forced});
  state_ = next;
  list_.lift(op);
  if (determinate_[op]) ++determinate_done_;
  if (stack_.size() > deepest_) {
    deepest_ = stack_.size();
    deepest_pending_ = true;
  }
  node_ = list_.first();
  entered_ = true;
  indeterminate_pass_ = false;
  return true;
}

bool KeySearch::Impl::dominated(StateId state) {
  const std::size_t n = indeterminate_linearized_.size();
  for (std::size_t k = n; k > 0 && n - k < kDominanceChecks; --k) {
    const std::uint32_t op = indeterminate_linearized_[k - 1];
    linearized_.clear(op);
    const bool found = cache_.contains(linearized_, state);
    linearized_.set(op);
    if (found) return true;
  }
  return false;
}

bool KeySearch::Impl::force_value_keeping(bool& taken) {
  taken = false;
  for (std::uint32_t n = list_.first(); !list_.is_return(n); n = list_.next(n)) {
    const std::uint32_t op = list_.op(n);
    if (!keeps_value_[op] || !model_.step(state_, op)) continue;
    taken = try_linearize(op, state_, true);
    return taken;
  }
  return true;
}

bool KeySearch::Impl::backtrack() {
  if (deepest_pending_) {
    remember_deepest();
    deepest_pending_ = false;
  }
  while (!stack_.empty()) {
    const Frame frame = stack_.back();
    stack_.pop_back();
    list_.unlift(frame.op);
    linearized_.clear(frame.op);
    if (determinate_[frame.op]) {
      --determinate_done_;
    } else {
      indeterminate_linearized_.pop_back();
    }
    state_ = frame.state_before;
    if (!frame.forced) {
      node_ = list_.next(list_.call_of(frame.op));
      indeterminate_pass_ = !determinate_[frame.op];
      return true;
    }
  }
  return false;
}

bool KeySearch::Impl::run(std::uint64_t steps,
                          std::optional<std::chrono::steady_clock::time_point> deadline) {
  VSR_ASSERT(!done_);
  for (std::uint64_t step = 0; step < steps; ++step) {
    if (determinate_done_ == determinate_total_) {
      result_.verdict = Verdict::linearizable;
      done_ = true;
      return true;
    }
    ++result_.states_explored;
    if (deadline && result_.states_explored % kStepsPerClockCheck == 0 &&
        std::chrono::steady_clock::now() >= *deadline)
      return false;
    if (entered_) {
      entered_ = false;
      bool taken = false;
      if (!force_value_keeping(taken)) {
        // Dead: go straight to backtracking below.
        node_ = list_.tail();
        indeterminate_pass_ = true;
      } else if (taken) {
        continue;
      }
    }
    if (!list_.is_return(node_)) {
      const std::uint32_t op = list_.op(node_);
      // Valid value-keeping candidates were forced on entry, so here they all fail.
      if (determinate_[op] != indeterminate_pass_ && !keeps_value_[op]) {
        if (const std::optional<StateId> next = model_.step(state_, op)) {
          if (try_linearize(op, *next, false)) continue;
        }
      }
      node_ = list_.next(node_);
      continue;
    }
    if (!indeterminate_pass_ && indeterminate_linearized_.size() < indeterminate_total_) {
      indeterminate_pass_ = true;
      node_ = list_.first();
      continue;
    }
    // Every candidate before this return failed.
    if (!backtrack()) {
      result_.verdict = Verdict::not_linearizable;
      result_.failure = std::move(failure_);
      done_ = true;
      return true;
    }
  }
  return false;
}

void KeySearch::Impl::remember_deepest() {
  failure_.key = std::string(key_.key);
  failure_.key_ops = key_.ops.size();
  failure_.linearized.clear();
  std::vector<std::uint32_t> steps;
  for (const Frame& frame : stack_) {
    failure_.linearized.push_back(key_.ops[frame.op]);
    steps.push_back(frame.op);
  }
  failure_.value = model_.replay(steps);
  failure_.stuck.clear();
  for (std::uint32_t n = list_.first(); !list_.is_return(n); n = list_.next(n)) {
    const std::uint32_t op = list_.op(n);
    failure_.stuck.push_back({key_.ops[op], !model_.step(state_, op).has_value()});
  }
}

KeySearch::KeySearch(const History& history, const KeyOps& key)
    : impl_(std::make_unique<Impl>(history, key)) {
  VSR_ASSERT(key.ops.size() <= History::kMaxOpsPerKey);
}

KeySearch::~KeySearch() = default;

bool KeySearch::run(std::uint64_t steps,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  return impl_->run(steps, deadline);
}

CheckResult KeySearch::result() const {
  VSR_ASSERT(impl_->done_);
  return impl_->result_;
}

std::uint64_t KeySearch::steps() const {
  return impl_->result_.states_explored;
}

std::size_t KeySearch::bytes() const {
  return impl_->bytes();
}

}  // namespace vsr::check
