// Power loss in sync mode batch, on a model of the page cache: the host dies at
// any journal write or sync, and what reaches the disk is whatever was synced plus
// any subset of the pages dirtied since (the kernel writes dirty pages back when it
// likes, in any order). The driver runs batches as the replica does: steps, then
// Journal::sync(), then everything the batch did counts as acknowledged.
//
// After every cut, opening the surviving images must give either a trustworthy
// state holding everything acknowledged — with a log that matches its own
// superblock, never the old log under a new view — or, only if the cut batch
// replaced the log's suffix, an untrustworthy state (the replica then recovers).
//
// The regions here are models, not files: they pin down what the journal needs
// from MmapRegion (a superblock that reaches the file only at sync() in batch
// mode) and from its own write order (the barrier syncs in journal.cpp).
#include <set>

#include <gtest/gtest.h>

#include "tests/storage/storage_test_util.h"

namespace vsr::storage::test {
namespace {

struct PowerLost {};

// Counts writes and syncs; at the chosen one, the host loses power.
struct PowerCut {
  std::uint64_t events_left = 0;
  void event() {
    if (events_left != 0 && --events_left == 0) throw PowerLost{};
  }
};

constexpr std::size_t kPage = 4096;

// A file region as the page cache holds it. With `write_at_sync` (what MmapRegion
// does for the superblock in batch mode), writes wait in process memory until
// sync(), so no writeback can take them to the disk earlier.
class CachedRegion final : public journal::Region {
 public:
  CachedRegion(std::size_t size, bool write_at_sync, PowerCut& cut)
      : cache_(size), disk_(size), pending_(size), write_at_sync_(write_at_sync), cut_(cut) {}

  ByteView bytes() const override { return write_at_sync_ ? pending_ : cache_; }
  void write(std::size_t offset, ByteView data) override {
    cut_.event();
    Bytes& target = write_at_sync_ ? pending_ : cache_;
    std::memcpy(target.data() + offset, data.data(), data.size());
    for (std::size_t p = offset / kPage; p <= (offset + data.size() - 1) / kPage; ++p) {
      (write_at_sync_ ? pending_pages_ : dirty_pages_).insert(p);
    }
  }
  void sync() override {
    for (std::size_t p : pending_pages_)
      copy_page(pending_, cache_, p), dirty_pages_.insert(p);
    pending_pages_.clear();
    cut_.event();  // a cut here: the msync wrote some of the dirty pages
    for (std::size_t p : dirty_pages_)
      copy_page(cache_, disk_, p);
    dirty_pages_.clear();
  }
  // The disk after the power is gone: synced pages, and each page dirty in the
  // cache written back or not.
  Bytes after_power_loss(std::mt19937_64& rng) const {
    Bytes out = disk_;
    for (std::size_t p : dirty_pages_) {
      if (rng() % 2) copy_page(cache_, out, p);
    }
    return out;
  }

 private:
  static void copy_page(const Bytes& from, Bytes& to, std::size_t page) {
    const std::size_t at = page * kPage;
    const std::size_t n = std::min(kPage, from.size() - at);
    std::memcpy(to.data() + at, from.data() + at, n);
  }

  Bytes cache_;
  Bytes disk_;
  Bytes pending_;
  bool write_at_sync_;
  PowerCut& cut_;
  std::set<std::size_t> dirty_pages_;
  std::set<std::size_t> pending_pages_;
};

// FileSnapshotStore's guarantees: a write is durable on return; a removal is an
// unlink that reaches the disk at some point (or not, before the power goes).
class CachedSnapshotStore final : public journal::SnapshotStore {
 public:
  explicit CachedSnapshotStore(PowerCut& cut) : cut_(cut) {}
  void write(OpNumber op, ByteView blob) override {
    cut_.event();
    disk_[op].assign(blob.begin(), blob.end());
    removed_.erase(op);
  }
  std::optional<Bytes> read(OpNumber op) const override {
    auto it = disk_.find(op);
    if (it == disk_.end() || removed_.contains(op)) return std::nullopt;
    return it->second;
  }
  void remove_older_than(OpNumber op) override {
    cut_.event();
    for (const auto& [at, blob] : disk_) {
      if (at < op) removed_.insert(at);
    }
  }
  std::map<OpNumber, Bytes> after_power_loss(std::mt19937_64& rng) const {
    std::map<OpNumber, Bytes> out;
    for (const auto& [op, blob] : disk_) {
      if (!removed_.contains(op) || rng() % 2) out[op] = blob;
    }
    return out;
  }

 private:
  PowerCut& cut_;
  std::map<OpNumber, Bytes> disk_;
  std::set<OpNumber> removed_;
};

// What the driver may count on: state as of the last completed Journal::sync().
struct Acked {
  std::map<std::uint64_t, Checksum> entries;  // ops after the checkpoint (and it)
  ViewNumber view;
  OpNumber checkpoint;
};

struct Trial {
  std::string violation;  // empty: the surviving state is acceptable
  bool cut = false;       // the power went out before the batches ran out
};

Trial run_trial(std::uint64_t seed, bool superblock_at_sync) {
  std::mt19937_64 rng(seed);
  const journal::Geometry geometry = small_geometry();
  PowerCut cut;
  CachedRegion superblock(journal::kSuperblockRegionSize, superblock_at_sync, cut);
  CachedRegion log(journal::log_region_size(geometry), false, cut);
  CachedSnapshotStore snapshots(cut);
  journal::Journal j(superblock, log, snapshots, identity(), geometry);
  j.format(true);
  j.sync();

  Acked acked;
  bool replaced_in_batch = false;
  struct Replace {
    OpNumber after;
    ViewNumber view;
    std::vector<Entry> entries;
  };
  std::vector<Replace> replaces_in_batch;
  cut.events_left = 1 + rng() % 600;
  Trial trial;
  try {
    for (int batch = 0; batch < 60; ++batch) {
      replaced_in_batch = false;
      replaces_in_batch.clear();
      for (std::uint64_t step = 0, steps = 1 + rng() % 6; step < steps; ++step) {
        const auto r = rng() % 100;
        const OpNumber head = j.log().head();
        if ((r < 8 || j.wants_checkpoint()) && head > j.checkpoint_op()) {
          j.checkpoint(head, make_state(head, *j.log().checksum_at(head), rng() % 2000), head);
        } else if (r < 16) {
          const ViewNumber v = j.view().next();
          j.persist_view(v, v, j.checkpoint_op());
        } else if (r < 24) {
          const OpNumber cp = j.checkpoint_op();
          const OpNumber after(cp.value() + rng() % (head.value() - cp.value() + 1));
          const ViewNumber v = j.view().next();
          std::vector<Entry> entries;
          Checksum parent = *j.log().checksum_at(after);
          for (std::uint64_t k = 1, n = 1 + rng() % 4; k <= n; ++k) {
            entries.push_back(make_entry(OpNumber(after.value() + k), parent, v, rng() % 600, rng));
            parent = entries.back().header.checksum;
          }
          replaced_in_batch = true;
          replaces_in_batch.push_back(Replace{after, v, entries});
          j.replace_suffix(after, entries, v, v, cp);
        } else {
          const Entry e = next_entry(j, j.view(), rng() % 600, rng);
          if (!j.can_append(e.body.size())) continue;
          j.append(e.header, e.body);
        }
      }
      j.sync();
      // Acknowledged: the whole state after this batch.
      acked.view = j.view();
      acked.checkpoint = j.checkpoint_op();
      acked.entries.clear();
      for (OpNumber op = j.checkpoint_op(); op <= j.log().head(); op = op.next()) {
        acked.entries[op.value()] = *j.log().checksum_at(op);
      }
    }
    return trial;
  } catch (const PowerLost&) {
    trial.cut = true;
  }

  journal::MemoryRegion sb_after(journal::kSuperblockRegionSize);
  journal::MemoryRegion log_after(journal::log_region_size(geometry));
  const Bytes sb_image = superblock.after_power_loss(rng);
  const Bytes log_image = log.after_power_loss(rng);
  sb_after.write(0, sb_image);
  log_after.write(0, log_image);
  journal::MemorySnapshotStore snapshots_after;
  snapshots_after.blobs() = snapshots.after_power_loss(rng);
  journal::Journal reopened(sb_after, log_after, snapshots_after, identity(), geometry);
  const auto opened = reopened.open();
  switch (opened.status) {
    case journal::Journal::OpenStatus::ok:
      break;
    case journal::Journal::OpenStatus::untrustworthy:
      if (!replaced_in_batch) trial.violation = "untrustworthy: " + opened.detail;
      return trial;
    default:
      trial.violation = "open: " + opened.detail;
      return trial;
  }
  if (reopened.view() < acked.view) return trial.violation = "view went back", trial;
  if (reopened.checkpoint_op() < acked.checkpoint)
    return trial.violation = "checkpoint went back", trial;
  const OpNumber cp = reopened.checkpoint_op();
  // A superblock that names a replace's view promises that replace's entries; it
  // may have cut acknowledged entries after its `after` (and so may any earlier
  // replace of the batch).
  std::map<std::uint64_t, Checksum> promised;
  std::uint64_t cut_from = UINT64_MAX;
  for (const Replace& r : replaces_in_batch) {
    if (reopened.last_normal_view() < r.view) continue;
    cut_from = std::min(cut_from, r.after.value() + 1);
    if (reopened.last_normal_view() != r.view) continue;
    promised.clear();
    for (const Entry& e : r.entries)
      promised[e.header.op.value()] = e.header.checksum;
  }
  // (Unacknowledged entries of the cut batch may come back faulty: a slot's page
  // can reach the disk before its body's. Acknowledged ones never.)
  for (const auto& [op, cs] : acked.entries) {
    if (op < cp.value() || op >= cut_from) continue;
    if (reopened.log().checksum_at(OpNumber(op)) != cs) {
      return trial.violation = "acknowledged op " + std::to_string(op) + " lost", trial;
    }
    if (reopened.log().faulty().contains(OpNumber(op))) {
      return trial.violation = "acknowledged op " + std::to_string(op) + " lost its body", trial;
    }
  }
  for (const auto& [op, cs] : promised) {
    if (op <= cp.value()) continue;
    if (reopened.log().checksum_at(OpNumber(op)) != cs) {
      return trial.violation = "view " + std::to_string(reopened.last_normal_view().value()) +
                               " over a log without its op " + std::to_string(op),
             trial;
    }
  }
  return trial;
}

struct Summary {
  int trials = 0;
  int cuts = 0;
  std::map<std::string, int> violations;  // by kind (text up to the first digit)
  std::string first;
};

Summary run_trials(int n, bool superblock_at_sync) {
  Summary s;
  for (int i = 0; i < n; ++i) {
    const Trial t = run_trial(1000 + i, superblock_at_sync);
    ++s.trials;
    s.cuts += t.cut;
    if (!t.violation.empty()) {
      ++s.violations[t.violation.substr(0, t.violation.find_first_of("0123456789"))];
      if (s.first.empty()) s.first = "seed " + std::to_string(1000 + i) + ": " + t.violation;
    }
  }
  for (const auto& [kind, count] : s.violations)
    std::printf("  %5d x %s\n", count, kind.c_str());
  return s;
}

TEST(PowerLoss, BatchModeSurvivesAPowerCutAtAnyWriteOrSync) {
  const Summary s = run_trials(3000, /*superblock_at_sync=*/true);
  std::printf("  %d trials, %d power cuts\n", s.trials, s.cuts);
  EXPECT_GT(s.cuts, s.trials / 2);
  EXPECT_TRUE(s.violations.empty()) << s.first;
}

// Why MmapRegion holds superblock writes until sync() in batch mode: written
// straight into a shared mapping, the kernel may write the superblock back before
// the log, and a power cut then leaves a new view over an old log.
TEST(PowerLoss, SuperblockWrittenThroughTheMappingIsNotEnough) {
  const Summary s = run_trials(3000, /*superblock_at_sync=*/false);
  EXPECT_FALSE(s.violations.empty());
}

// Writeback in any order can lose an entry's slot page and its ring page while a later
// slot page reaches the disk: a hole. Alone, a replica cuts its log there (with f = 0
// no storage fault is tolerated, so nothing past it was synced); with peers it
// recovers from them (a hole is also what an acknowledged entry lost to a fault
// looks like).
struct Holed {
  journal::MemoryRegion superblock{journal::kSuperblockRegionSize};
  journal::MemoryRegion log;
  journal::MemorySnapshotStore snapshots;
  journal::Identity id;
  explicit Holed(std::uint8_t replicas)
      : log(journal::log_region_size(small_geometry())), id{kCluster, 0, replicas} {
    journal::Journal j(superblock, log, snapshots, id, small_geometry());
    j.format(true);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 6; ++i) {
      const Entry e = next_entry(j, j.view(), 100, rng);
      j.append(e.header, e.body);
    }
    // Both copies of op 3 never reached the disk; ops 4-6 did.
    const EntryLocation at = locate(small_geometry(), log.bytes(), OpNumber(3));
    std::fill_n(log.mutable_bytes().begin() + static_cast<std::ptrdiff_t>(at.slot),
                journal::kSlotSize, std::byte{0});
    std::fill_n(log.mutable_bytes().begin() + static_cast<std::ptrdiff_t>(at.ring_header),
                EntryHeader::kEncodedSize, std::byte{0});
  }
  journal::Journal::OpenResult open(std::unique_ptr<journal::Journal>& j) {
    j = std::make_unique<journal::Journal>(superblock, log, snapshots, id, small_geometry());
    return j->open();
  }
};

TEST(PowerLoss, AHoleInAOneReplicaLogIsATornTail) {
  Holed holed(1);
  std::unique_ptr<journal::Journal> j;
  const auto opened = holed.open(j);
  ASSERT_EQ(opened.status, journal::Journal::OpenStatus::ok) << opened.detail;
  EXPECT_EQ(j->log().head(), OpNumber(2));
  EXPECT_EQ(opened.torn_from, OpNumber(3));
  // The entries past the hole are gone for good: a new op 3 and its successors are
  // found on the next open, not the old op 4.
  std::mt19937_64 rng(9);
  const Entry e = next_entry(*j, j->view(), 40, rng);
  j->append(e.header, e.body);
  const auto reopened = holed.open(j);
  ASSERT_EQ(reopened.status, journal::Journal::OpenStatus::ok) << reopened.detail;
  EXPECT_EQ(j->log().head(), OpNumber(3));
  EXPECT_EQ(j->log().checksum_at(OpNumber(3)), e.header.checksum);
  EXPECT_EQ(reopened.torn_from, OpNumber(0)) << "an old slot past the hole is still there";
}

TEST(PowerLoss, AHoleInALogWithPeersIsUntrustworthy) {
  Holed holed(3);
  std::unique_ptr<journal::Journal> j;
  const auto opened = holed.open(j);
  EXPECT_EQ(opened.status, journal::Journal::OpenStatus::untrustworthy);
  EXPECT_NE(opened.detail.find("entry 3 is unreadable"), std::string::npos) << opened.detail;
}

}  // namespace
}  // namespace vsr::storage::test
