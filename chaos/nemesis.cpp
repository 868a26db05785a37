#include "chaos/nemesis.h"

#include <algorithm>

#include "chaos/history_file.h"
#include "supervisor/control.h"

namespace vsr::chaos {

const char* to_string(Fault fault) {
  switch (fault) {
    case Fault::kill:
      return "kill";
    case Fault::pause:
      return "pause";
    case Fault::partition:
      return "partition";
    case Fault::wipe:
      return "wipe";
  }
  return "?";
}

Nemesis::Nemesis(const Options& options, std::uint32_t max_down, std::mt19937_64& random,
                 std::vector<std::string>& schedule)
    : options_(options),
      max_down_(max_down),
      random_(random),
      schedule_(schedule),
      start_(std::chrono::steady_clock::now()),
      next_fault_(start_ + options.interval) {}

bool Nemesis::command(const std::vector<std::string>& words) {
  std::string line = std::to_string(monotonic_ns()) + " ";
  for (const std::string& w : words) line += w + " ";
  const auto reply = supervisor::send_command(options_.cluster, words);
  line += reply && reply->ok ? "-> ok" : "-> failed: " + (reply ? reply->text : "no supervisor");
  while (!line.empty() && line.back() == '\n') line.pop_back();
  schedule_.push_back(line);
  return reply && reply->ok;
}

std::vector<std::string> Nemesis::restart_crashed() {
  std::vector<std::string> crashes;
  const auto reply = supervisor::send_command(options_.cluster, {"status", "--json"});
  if (!reply || !reply->ok) return crashes;
  // The supervisor's JSON is flat and regular: one {"id":N,...,"state":"...",...,
  // "last_exit":"..."} object per replica.
  const std::string& text = reply->text;
  const auto field = [&](std::size_t from, std::size_t to, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const std::size_t at = text.find(key, from);
    if (at == std::string::npos || at >= to) return std::string();
    std::size_t begin = at + key.size();
    std::size_t end = begin;
    if (text[begin] == '"') {
      end = text.find('"', ++begin);
    } else {
      end = text.find_first_of(",}", begin);
    }
    return end == std::string::npos ? std::string() : text.substr(begin, end - begin);
  };
  for (std::size_t at = text.find("{\"id\":"); at != std::string::npos;) {
    const std::size_t next = text.find("{\"id\":", at + 1);
    const std::size_t end = next == std::string::npos ? text.size() : next;
    const std::string id = field(at, end, "id");
    if (field(at, end, "state") == "down" && !id.empty()) {
      const auto r = static_cast<std::uint32_t>(std::stoul(id));
      if (!down_.contains(r)) {
        crashes.push_back("replica " + id + " went down by itself (" + field(at, end, "last_exit") +
                          "; see its replica.log)");
        command({"restart", id});
      }
    }
    at = next;
  }
  return crashes;
}

void Nemesis::observe(const std::set<std::uint32_t>& recovering,
                      const std::set<std::uint32_t>& normal,
                      const std::map<std::uint32_t, std::uint64_t>& board_pids) {
  board_pids_ = board_pids;
  for (auto it = wiped_.begin(); it != wiped_.end();) {
    const auto pid = board_pids.find(it->first);
    const bool recovered =
        normal.contains(it->first) && pid != board_pids.end() && pid->second != it->second;
    it = recovered ? wiped_.erase(it) : std::next(it);
  }
  recovering_ = recovering;
}

std::set<std::uint32_t> Nemesis::recovering() const {
  std::set<std::uint32_t> all = recovering_;
  for (const auto& [r, pid] : wiped_) all.insert(r);
  return all;
}

std::uint32_t Nemesis::faulty() const {
  std::set<std::uint32_t> faulty(cut_off_);
  for (const auto& [r, t] : down_) faulty.insert(r);
  for (const auto& [r, t] : paused_) faulty.insert(r);
  const std::set<std::uint32_t> recovering = this->recovering();
  faulty.insert(recovering.begin(), recovering.end());
  return static_cast<std::uint32_t>(faulty.size());
}

std::chrono::milliseconds Nemesis::fault_length() {
  // Between half an interval and three intervals: faults overlap, but do not pile up.
  const auto base = options_.interval.count();
  return std::chrono::milliseconds(base / 2 + static_cast<std::int64_t>(random_() % (base * 5 / 2 + 1)));
}

void Nemesis::step(std::chrono::steady_clock::time_point now, std::optional<std::uint32_t> primary) {
  for (auto it = down_.begin(); it != down_.end();) {
    if (now >= it->second) {
      command({"restart", std::to_string(it->first)});
      it = down_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = paused_.begin(); it != paused_.end();) {
    if (now >= it->second) {
      command({"resume", std::to_string(it->first)});
      it = paused_.erase(it);
    } else {
      ++it;
    }
  }
  if (heal_at_ && now >= *heal_at_) {
    command({"heal"});
    cut_off_.clear();
    heal_at_.reset();
  }
  if (now >= next_fault_) {
    next_fault_ = now + options_.interval;
    inject(now, primary);
  }
}

void Nemesis::inject(std::chrono::steady_clock::time_point now, std::optional<std::uint32_t> primary) {
  const std::vector<Fault> kinds(options_.faults.begin(), options_.faults.end());
  if (kinds.empty()) return;
  // Kills most often (they are what exercises failover), then the rest evenly.
  Fault fault = kinds[random_() % kinds.size()];
  if (options_.faults.contains(Fault::kill) && random_() % 2 == 0) fault = Fault::kill;
  const std::uint32_t n = options_.replicas;
  // The primary more often than not.
  const auto pick = [&]() -> std::uint32_t {
    if (primary && random_() % 3 != 0) return *primary;
    return static_cast<std::uint32_t>(random_() % n);
  };
  const auto healthy = [&](std::uint32_t r) {
    return !down_.contains(r) && !paused_.contains(r) && !cut_off_.contains(r) &&
           !recovering().contains(r);
  };
  const std::uint32_t f = (n - 1) / 2;
  switch (fault) {
    case Fault::kill:
    case Fault::pause:
    case Fault::wipe: {
      const std::uint32_t r = pick();
      if (!healthy(r) || faulty() + 1 > max_down_) return;
      // Losing state beyond f loses data: wipes never exceed f, whatever max_down says.
      if (fault == Fault::wipe && recovering().size() + 1 > f) return;
      if (fault == Fault::kill) {
        if (!command({"kill", std::to_string(r)})) return;
        down_[r] = now + fault_length();
        if (primary && r == *primary) ++counts_.primary_kills;
      } else if (fault == Fault::pause) {
        if (!command({"pause", std::to_string(r)})) return;
        paused_[r] = now + fault_length();
      } else {
        const auto pid = board_pids_.find(r);
        const std::uint64_t old_pid = pid == board_pids_.end() ? 0 : pid->second;
        if (!command({"restart", std::to_string(r), "--wipe"})) return;
        wiped_[r] = old_pid;
      }
      ++counts_.injected[fault];
      return;
    }
    case Fault::partition: {
      if (heal_at_ || n < 3) return;
      std::set<std::uint32_t> minority;
      if (primary && random_() % 2 == 0) {
        minority = {*primary};  // isolate the primary
      } else {
        std::vector<std::uint32_t> ids(n);
        for (std::uint32_t i = 0; i < n; ++i) ids[i] = i;
        std::shuffle(ids.begin(), ids.end(), random_);
        minority.insert(ids.begin(), ids.begin() + (n - 1) / 2);  // split into halves
      }
      std::set<std::uint32_t> would = minority;
      for (const auto& [r, t] : down_) would.insert(r);
      for (const auto& [r, t] : paused_) would.insert(r);
      const std::set<std::uint32_t> recovering = this->recovering();
      would.insert(recovering.begin(), recovering.end());
      if (would.size() > max_down_) return;
      std::string a, b;
      for (std::uint32_t i = 0; i < n; ++i) {
        std::string& side = minority.contains(i) ? a : b;
        side += (side.empty() ? "" : ",") + std::to_string(i);
      }
      if (!command({"partition", a, b})) return;
      cut_off_ = minority;
      heal_at_ = now + fault_length();
      ++counts_.injected[fault];
      return;
    }
  }
}

void Nemesis::heal_all() {
  command({"heal"});
  cut_off_.clear();
  heal_at_.reset();
  for (const auto& [r, t] : paused_) command({"resume", std::to_string(r)});
  paused_.clear();
  for (const auto& [r, t] : down_) command({"restart", std::to_string(r)});
  down_.clear();
}

}  // namespace vsr::chaos
