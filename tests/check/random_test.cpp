// The checker against an independent brute-force oracle on thousands of small random
// histories: some recorded from a real store (linearizable by construction), some with one
// result changed afterwards (either way).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "check/check.h"
#include "check/history.h"

namespace vsr::check {
namespace {

// The specification, written again without the checker's interning and compiled steps.
bool apply(const OpRecord& r, Value& value) {
  const bool unknown = !r.determinate();
  switch (r.op.f) {
    case Fn::get:
      return unknown || value == r.result;
    case Fn::put:
      value = r.op.arg;
      return true;
    case Fn::del:
      if (!unknown && (r.outcome == Outcome::ok) != value.has_value()) return false;
      value.reset();
      return true;
    case Fn::cas:
      if (unknown) {
        if (value == r.op.arg) value = r.op.arg2;
        return true;
      }
      if (r.outcome == Outcome::ok) {
        if (value != r.op.arg) return false;
        value = r.op.arg2;
        return true;
      }
      return value != r.op.arg && (!r.has_result || value == r.result);
    case Fn::append:
      value = value.value_or("") + *r.op.arg;
      return true;
  }
  return false;
}

// Tries every order of the operations that respects real time, one key at a time, with
// indeterminate operations free to be left out. No memo, no pruning.
class Oracle {
 public:
  explicit Oracle(const History& h) : h_(h) {}

  bool linearizable() {
    std::map<std::string, std::vector<std::size_t>> by_key;
    for (std::size_t i = 0; i < h_.size(); ++i)
      by_key[h_.ops()[i].op.key].push_back(i);
    for (const auto& [key, ops] : by_key) {
      ops_ = ops;
      done_.assign(ops.size(), false);
      if (!search(h_.initial_value())) return false;
    }
    return true;
  }

 private:
  bool must_precede(std::size_t a, std::size_t b) const {
    const OpRecord& x = h_.ops()[ops_[a]];
    return x.determinate() && x.complete_event < h_.ops()[ops_[b]].invoke_event;
  }

  bool search(const Value& value) {
    bool all_determinate_done = true;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!done_[i] && h_.ops()[ops_[i]].determinate()) all_determinate_done = false;
    }
    if (all_determinate_done) return true;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (done_[i]) continue;
      bool ready = true;
      for (std::size_t j = 0; j < ops_.size() && ready; ++j) {
        if (!done_[j] && j != i && must_precede(j, i)) ready = false;
      }
      if (!ready) continue;
      Value next = value;
      if (!apply(h_.ops()[ops_[i]], next)) continue;
      done_[i] = true;
      const bool found = search(next);
      done_[i] = false;
      if (found) return true;
    }
    return false;
  }

  const History& h_;
  std::vector<std::size_t> ops_;
  std::vector<bool> done_;
};

// Records a random concurrent run against a real store: each operation takes effect at a
// random moment between its invoke and its completion (or, if it times out, maybe never).
class Recorder {
 public:
  // One operation in `info_one_in` times out before taking effect, as many after, and as many
  // are never completed (the client crashed).
  Recorder(std::uint64_t seed, std::size_t info_one_in) : rng_(seed), info_one_in_(info_one_in) {}

  History run() {
    History h;
    initial_ = coin(4) ? Value("") : Value{};
    h.set_initial_value(initial_);
    store_.clear();
    const std::size_t processes = 1 + pick(4);
    std::size_t to_invoke = 1 + pick(8);
    std::vector<Client> clients(processes);
    while (true) {
      std::vector<std::size_t> active;
      for (std::size_t c = 0; c < clients.size(); ++c) {
        if (clients[c].state != Client::State::gone &&
            (clients[c].state != Client::State::idle || to_invoke > 0))
          active.push_back(c);
      }
      if (active.empty()) break;
      const std::size_t c = active[pick(active.size())];
      Client& client = clients[c];
      switch (client.state) {
        case Client::State::idle:
          --to_invoke;
          client.id = h.invoke(ProcessId{c}, random_op());
          client.state = Client::State::invoked;
          break;
        case Client::State::invoked:
          if (coin(info_one_in_)) {  // timed out before taking effect
            h.complete(client.id, Outcome::info);
            client.state = Client::State::idle;
          } else {
            execute(h.op(client.id).op, client);
            client.state = Client::State::applied;
          }
          break;
        case Client::State::applied:
          if (coin(info_one_in_)) {
            client.state = Client::State::gone;  // crashed: never completes
          } else if (coin(info_one_in_)) {
            h.complete(client.id, Outcome::info);
            client.state = Client::State::idle;
          } else {
            if (client.has_result) {
              h.complete(client.id, client.outcome, client.result);
            } else {
              h.complete(client.id, client.outcome);
            }
            client.state = Client::State::idle;
          }
          break;
        case Client::State::gone:
          break;
      }
    }
    return h;
  }

  // Changes one completed operation's result or outcome; the result may or may not still be
  // linearizable.
  History mutate(const History& h) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (h.ops()[i].determinate()) candidates.push_back(i);
    }
    if (candidates.empty()) return h;
    const std::size_t victim = candidates[pick(candidates.size())];
    History out;
    out.set_initial_value(h.initial_value());
    std::vector<OpId> ids(h.size());
    for (const Event& e : h.events()) {
      const OpRecord& r = h.op(e.op);
      if (!e.completion) {
        ids[e.op.value()] = out.invoke(r.process, r.op);
        continue;
      }
      Outcome outcome = r.outcome;
      bool has_result = r.has_result;
      Value result = r.result;
      if (e.op.value() == victim) {
        if (r.op.f == Fn::get) {
          result = random_value();
        } else if (r.op.f == Fn::del || r.op.f == Fn::cas) {
          outcome = outcome == Outcome::ok ? Outcome::fail : Outcome::ok;
          has_result = r.op.f == Fn::cas && outcome == Outcome::fail && coin(2);
          result = random_value();
        } else {
          outcome = Outcome::info;
        }
      }
      if (has_result) {
        out.complete(ids[e.op.value()], outcome, result);
      } else {
        out.complete(ids[e.op.value()], outcome);
      }
    }
    return out;
  }

 private:
  struct Client {
    enum class State { idle, invoked, applied, gone } state = State::idle;
    OpId id;
    Outcome outcome = Outcome::ok;
    bool has_result = false;
    Value result;
  };

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool coin(std::size_t one_in) { return pick(one_in) == 0; }
  std::string random_key() { return coin(2) ? "a" : "b"; }
  Value random_value() {
    if (coin(4)) return std::nullopt;
    static const char* kValues[] = {"", "1", "2", "12"};
    return std::string(kValues[pick(4)]);
  }

  Op random_op() {
    switch (pick(5)) {
      case 0:
        return Op::get(random_key());
      case 1:
        return Op::put(random_key(), coin(2) ? "1" : "2");
      case 2:
        return Op::del(random_key());
      case 3:
        return Op::cas(random_key(), random_value(), random_value());
      default:
        return Op::append(random_key(), coin(2) ? "1" : "2");
    }
  }

  // Applies `op` to the real store and remembers what the client will be told.
  void execute(const Op& op, Client& client) {
    auto found = store_.find(op.key);
    Value& value = found != store_.end() ? found->second : store_[op.key];
    if (found == store_.end()) value = initial_;
    client.outcome = Outcome::ok;
    client.has_result = false;
    switch (op.f) {
      case Fn::get:
        client.has_result = true;
        client.result = value;
        break;
      case Fn::put:
        value = op.arg;
        break;
      case Fn::del:
        if (!value) client.outcome = Outcome::fail;
        value.reset();
        break;
      case Fn::cas:
        if (value == op.arg) {
          value = op.arg2;
        } else {
          client.outcome = Outcome::fail;
          client.has_result = coin(2);
          client.result = value;
        }
        break;
      case Fn::append:
        value = value.value_or("") + *op.arg;
        break;
    }
  }

  std::mt19937_64 rng_;
  std::size_t info_one_in_;
  std::map<std::string, Value> store_;
  Value initial_;
};

std::string dump(const History& h) {
  std::ostringstream out;
  if (h.initial_value()) out << "# every key starts at \"" << *h.initial_value() << "\"\n";
  out << "(" << h.size() << " ops, [invoke event, completion event])\n";
  for (const OpRecord& r : h.ops()) {
    out << "p" << r.process << " " << to_string(r.op.f) << " " << r.op.key << " "
        << r.op.arg.value_or("nil") << " " << r.op.arg2.value_or("nil") << " -> "
        << to_string(r.outcome) << " " << (r.has_result ? r.result.value_or("nil") : "") << " ["
        << r.invoke_event << ", " << r.complete_event << "]\n";
  }
  return out.str();
}

void agree_with_brute_force(std::uint64_t seed, std::size_t info_one_in) {
  Recorder recorder(seed, info_one_in);
  int linearizable = 0;
  int not_linearizable = 0;
  for (int i = 0; i < 10000; ++i) {
    const History recorded = recorder.run();
    ASSERT_EQ(check(recorded).verdict, Verdict::linearizable) << dump(recorded);
    const History h = recorder.mutate(recorded);
    const bool expected = Oracle(h).linearizable();
    const CheckResult r = check(h);
    ASSERT_EQ(r.verdict, expected ? Verdict::linearizable : Verdict::not_linearizable)
        << "history " << i << "\n"
        << dump(h);
    ++(expected ? linearizable : not_linearizable);
  }
  // Both verdicts must be well represented for the comparison to mean anything.
  EXPECT_GT(linearizable, 2000);
  EXPECT_GT(not_linearizable, 2000);
}

TEST(RandomHistories, AgreeWithBruteForce) {
  agree_with_brute_force(20240601, 8);
}

// Many timeouts and crashes: exercises the pruning of indeterminate operations.
TEST(RandomHistories, WithManyIndeterminateOpsAgreeWithBruteForce) {
  agree_with_brute_force(77, 3);
}

}  // namespace
}  // namespace vsr::check
