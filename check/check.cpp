#include "check/check.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "check/search.h"
#include "check/text.h"
#include "common/assert.h"

namespace vsr::check {
namespace {

// Search steps each key gets in its first turn, and at most per turn (about a second).
constexpr std::uint64_t kFirstSlice = std::uint64_t{1} << 12;
constexpr std::uint64_t kMaxSlice = std::uint64_t{1} << 20;

// Splits the history by key, keeping the real-time order of events within each key.
std::vector<KeyOps> partition(const History& history) {
  constexpr std::uint32_t kDropped = UINT32_MAX;
  std::vector<KeyOps> keys;
  std::unordered_map<std::string_view, std::size_t> key_index;
  std::vector<std::uint32_t> local(history.size(), kDropped);
  for (const Event& event : history.events()) {
    const OpRecord& record = history.op(event.op);
    // An indeterminate get has no effect and no result to check.
    if (record.op.f == Fn::get && !record.determinate()) continue;
    const auto [it, added] = key_index.emplace(record.op.key, keys.size());
    if (added) keys.push_back(KeyOps{record.op.key, {}, {}});
    KeyOps& key = keys[it->second];
    if (!event.completion) {
      local[event.op.value()] = static_cast<std::uint32_t>(key.ops.size());
      key.ops.push_back(event.op);
      key.events.push_back(2 * local[event.op.value()]);
    } else if (record.determinate()) {
      key.events.push_back(2 * local[event.op.value()] + 1);
    }
  }
  for (KeyOps& key : keys) {
    for (std::uint32_t i = 0; i < key.ops.size(); ++i) {
      if (!history.op(key.ops[i]).determinate()) key.events.push_back(2 * i + 1);
    }
    VSR_ASSERT(key.events.size() == 2 * key.ops.size());
  }
  return keys;
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable:
      return "linearizable";
    case Verdict::not_linearizable:
      return "not linearizable";
    case Verdict::unknown:
      return "unknown";
  }
  VSR_ASSERT_MSG(false, "unknown Verdict");
}

CheckResult check(const History& history, const Options& options) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.timeout.count() > 0) deadline = std::chrono::steady_clock::now() + options.timeout;

  CheckResult overall;
  auto undecided = [&overall](std::string reason) {
    if (overall.verdict != Verdict::linearizable) return;
    overall.verdict = Verdict::unknown;
    overall.unknown_reason = std::move(reason);
  };
  const std::vector<KeyOps> keys = partition(history);
  struct Running {
    const KeyOps* key;
    std::unique_ptr<KeySearch> search;
  };
  std::vector<Running> running;
  for (const KeyOps& key : keys) {
    if (key.ops.size() > History::kMaxOpsPerKey) {
      undecided("key " + quote(key.key) + " has " + std::to_string(key.ops.size()) +
                " operations, more than the checker's limit of " +
                std::to_string(History::kMaxOpsPerKey));
      continue;
    }
    running.push_back({&key, std::make_unique<KeySearch>(history, key)});
  }
  auto stop = [&](std::size_t i) {
    overall.states_explored += running[i].search->steps();
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
  };

  // Round robin with a growing slice: a key that fails quickly is found after a few rounds
  // even when another key needs a long search.
  std::uint64_t slice = kFirstSlice;
  while (!running.empty()) {
    if (deadline && std::chrono::steady_clock::now() >= *deadline) {
      undecided("the time limit ran out with " + std::to_string(running.size()) +
                " key(s) undecided, among them " + quote(running.front().key->key));
      while (!running.empty())
        stop(0);
      break;
    }
    for (std::size_t i = 0; i < running.size();) {
      KeySearch& search = *running[i].search;
      if (!search.run(slice, deadline)) {
        ++i;
        continue;
      }
      CheckResult result = search.result();
      stop(i);
      if (result.verdict == Verdict::not_linearizable) {
        while (!running.empty())
          stop(0);
        result.states_explored = overall.states_explored;
        return result;
      }
    }
    // Another key may still prove the history not linearizable, so only the hungriest search
    // is given up.
    std::size_t bytes = 0;
    std::size_t largest = 0;
    for (std::size_t i = 0; i < running.size(); ++i) {
      bytes += running[i].search->bytes();
      if (running[i].search->bytes() > running[largest].search->bytes()) largest = i;
    }
    if (bytes > options.memory_limit_bytes) {
      undecided("the search of key " + quote(running[largest].key->key) + " needed more than " +
                std::to_string(options.memory_limit_bytes >> 20) + " MiB");
      stop(largest);
    }
    slice = std::min(slice * 2, kMaxSlice);
  }
  return overall;
}

}  // namespace vsr::check
