// Random bit flips in the files of a closed journal: every flip that changes what
// the journal holds is detected, and none ever yields a silently different entry.
//   - an entry's body: the op is faulty, with its known header (to be repaired from
//     a peer by checksum); every other entry intact;
//   - one of an entry's two header copies (its slot or its in-ring header): mended
//     from the other on open, byte for byte; the entry intact;
//   - one superblock copy: the other copy is used, the same state;
//   - the log file header or the checkpoint: untrustworthy (recover from peers);
//   - anywhere in the log file: one of the above, or nothing at all.
#include <gtest/gtest.h>

#include "replica/journal/superblock.h"
#include "tests/storage/storage_test_util.h"

namespace vsr::storage::test {
namespace {

using Opened = ReplicaStorage::Opened;

// The encoded superblock copy (superblock.cpp): 95 bytes of fields and an 8-byte
// checksum; the rest of the 4 KiB copy is padding that no reader looks at.
constexpr std::size_t kSuperblockEncoded = 103;
// The log file header (log_ring.cpp): magic, version, identity, geometry, checksum.
constexpr std::size_t kLogHeaderEncoded = 46;

class BitFlipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    format_new_cluster(tmp_.path(), identity(), small_geometry());
    std::mt19937_64 rng(7);
    {
      auto storage = ReplicaStorage::open(options(tmp_.path()), 1);
      journal::Journal& j = storage->journal();
      j.persist_view(ViewNumber(2), ViewNumber(2), OpNumber(0));
      for (int i = 0; i < 200; ++i) {  // wraps the ring a few times
        if (j.wants_checkpoint()) {
          const OpNumber op = j.log().head();
          j.checkpoint(op, make_state(op, *j.log().checksum_at(op), 500), op);
        }
        Entry e = next_entry(j, j.view(), 1 + rng() % 700, rng);
        j.append(e.header, e.body);
        entries_[e.header.op] = std::move(e);
      }
      // Enough entries after the checkpoint to flip (the journal asks for one at 16).
      while (j.log().head().value() - j.checkpoint_op().value() < 12) {
        Entry e = next_entry(j, j.view(), 1 + rng() % 700, rng);
        j.append(e.header, e.body);
        entries_[e.header.op] = std::move(e);
      }
    }
    {
      // What a restart holds: the entries after the checkpoint (a running journal
      // also keeps older ones until the ring reuses their space).
      auto storage = ReplicaStorage::open(options(tmp_.path()), 1);
      ASSERT_EQ(storage->opened(), Opened::restart);
      first_ = storage->journal().log().first();
      head_ = storage->journal().log().head();
      superblock_ = storage->journal().superblock();
    }
    ASSERT_GE(head_.value() - first_.value(), 8u) << "too few held entries to flip";
    ASSERT_GT(superblock_.checkpoint_op.value(), 0u);
    superblock_file_ = read_bytes(dir() / kSuperblockFile);
    log_file_ = read_bytes(dir() / kLogFile);
    snapshot_name_ = FileSnapshotStore::file_name(superblock_.checkpoint_op);
    snapshot_file_ = read_bytes(dir() / snapshot_name_);
  }

  std::filesystem::path dir() const { return replica_dir(tmp_.path(), 0); }

  void restore() {
    write_bytes(dir() / kSuperblockFile, superblock_file_);
    write_bytes(dir() / kLogFile, log_file_);
    for (OpNumber op : FileSnapshotStore(dir()).ops()) {
      std::filesystem::remove(dir() / FileSnapshotStore::file_name(op));
    }
    write_bytes(dir() / snapshot_name_, snapshot_file_);
  }

  OpNumber random_held_op(std::mt19937_64& rng) const {
    return OpNumber(first_.value() + rng() % (head_.value() - first_.value() + 1));
  }

  // Every held entry is the one written, or faulty with the header written; at
  // most `faulty_allowed` are faulty.
  void expect_same_entries(const journal::Journal& j, std::size_t faulty_allowed) const {
    ASSERT_EQ(j.log().first(), first_);
    ASSERT_EQ(j.log().head(), head_);
    ASSERT_LE(j.log().faulty().size(), faulty_allowed);
    for (OpNumber op = first_; op <= head_; op = op.next()) {
      const Entry& want = entries_.at(op);
      if (auto it = j.log().faulty().find(op); it != j.log().faulty().end()) {
        ASSERT_EQ(it->second, want.header) << "faulty op " << op << " with another header";
        ASSERT_FALSE(j.log().entry(op).has_value());
        continue;
      }
      const auto got = j.log().entry(op);
      ASSERT_TRUE(got.has_value()) << op;
      ASSERT_EQ(got->header, want.header) << op;
      ASSERT_TRUE(
          std::equal(got->body.begin(), got->body.end(), want.body.begin(), want.body.end()))
          << "op " << op << " has another body";
    }
  }

  void expect_same_superblock(const journal::Journal& j) const {
    const journal::Superblock& sb = j.superblock();
    EXPECT_EQ(sb.sequence, superblock_.sequence);
    EXPECT_EQ(sb.view, superblock_.view);
    EXPECT_EQ(sb.last_normal_view, superblock_.last_normal_view);
    EXPECT_EQ(sb.commit, superblock_.commit);
    EXPECT_EQ(sb.checkpoint_op, superblock_.checkpoint_op);
    EXPECT_EQ(sb.checkpoint_checksum, superblock_.checkpoint_checksum);
    EXPECT_EQ(sb.log_offset, superblock_.log_offset);
    EXPECT_TRUE(sb.trustworthy);
  }

  // Flips one bit at `offset` of `file`, opens, and returns the storage.
  std::unique_ptr<ReplicaStorage> flip_and_open(const char* file, std::size_t offset,
                                                std::mt19937_64& rng) {
    restore();
    flip_bit(dir() / file, offset, static_cast<int>(rng() % 8));
    return ReplicaStorage::open(options(tmp_.path()), 1);
  }

  TempDir tmp_;
  std::map<OpNumber, Entry> entries_;
  OpNumber first_;
  OpNumber head_;
  journal::Superblock superblock_;
  Bytes superblock_file_;
  Bytes log_file_;
  std::string snapshot_name_;
  Bytes snapshot_file_;
};

constexpr int kTrials = 300;

TEST_F(BitFlipTest, BodyFlipMakesTheEntryFaultyWithItsKnownHeader) {
  std::mt19937_64 rng(101);
  for (int trial = 0; trial < kTrials; ++trial) {
    const OpNumber op = random_held_op(rng);
    const EntryLocation at = locate(small_geometry(), log_file_, op);
    const std::size_t offset = at.body + rng() % entries_.at(op).body.size();
    SCOPED_TRACE("op " + std::to_string(op.value()) + " byte " + std::to_string(offset));
    auto storage = flip_and_open(kLogFile, offset, rng);
    ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
    const journal::Journal& j = storage->journal();
    ASSERT_EQ(j.log().faulty().size(), 1u);
    ASSERT_TRUE(j.log().faulty().contains(op));
    expect_same_entries(j, 1);
  }
}

TEST_F(BitFlipTest, SlotFlipIsMendedFromTheInRingHeader) {
  std::mt19937_64 rng(102);
  for (int trial = 0; trial < kTrials; ++trial) {
    const OpNumber op = random_held_op(rng);
    const EntryLocation at = locate(small_geometry(), log_file_, op);
    const std::size_t offset = at.slot + rng() % journal::kSlotSize;
    SCOPED_TRACE("op " + std::to_string(op.value()) + " byte " + std::to_string(offset));
    {
      auto storage = flip_and_open(kLogFile, offset, rng);
      ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
      expect_same_entries(storage->journal(), 0);
    }
    ASSERT_EQ(read_bytes(dir() / kLogFile), log_file_) << "the slot was not mended";
  }
}

TEST_F(BitFlipTest, InRingHeaderFlipIsMendedFromTheSlot) {
  std::mt19937_64 rng(103);
  for (int trial = 0; trial < kTrials; ++trial) {
    const OpNumber op = random_held_op(rng);
    const EntryLocation at = locate(small_geometry(), log_file_, op);
    const std::size_t offset = at.ring_header + rng() % EntryHeader::kEncodedSize;
    SCOPED_TRACE("op " + std::to_string(op.value()) + " byte " + std::to_string(offset));
    {
      auto storage = flip_and_open(kLogFile, offset, rng);
      ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
      expect_same_entries(storage->journal(), 0);
    }
    ASSERT_EQ(read_bytes(dir() / kLogFile), log_file_) << "the in-ring header was not mended";
  }
}

TEST_F(BitFlipTest, SuperblockCopyFlipFallsBackToTheOtherCopy) {
  std::mt19937_64 rng(104);
  int detected = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const std::size_t copy = rng() % journal::kSuperblockCopies;
    // Mostly the encoded fields; sometimes the padding after them.
    const bool padding = rng() % 4 == 0;
    const std::size_t offset =
        copy * journal::kSuperblockCopySize +
        (padding ? kSuperblockEncoded + rng() % (journal::kSuperblockCopySize - kSuperblockEncoded)
                 : rng() % kSuperblockEncoded);
    SCOPED_TRACE("byte " + std::to_string(offset));
    auto storage = flip_and_open(kSuperblockFile, offset, rng);
    ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
    expect_same_superblock(storage->journal());
    expect_same_entries(storage->journal(), 0);
    const auto region =
        MmapRegion::open(dir() / kSuperblockFile, journal::kSuperblockRegionSize, SyncMode::none);
    const int valid = journal::read_superblock(*region, identity()).valid_copies;
    ASSERT_EQ(valid, padding ? 2 : 1) << "a flip in the fields must invalidate that copy";
    detected += valid == 1;
  }
  EXPECT_GT(detected, kTrials / 2);
}

TEST_F(BitFlipTest, LogFileHeaderFlipIsUntrustworthy) {
  std::mt19937_64 rng(105);
  for (int trial = 0; trial < kTrials / 3; ++trial) {
    const std::size_t offset = rng() % kLogHeaderEncoded;
    auto storage = flip_and_open(kLogFile, offset, rng);
    ASSERT_EQ(storage->opened(), Opened::recover_untrustworthy) << "byte " << offset;
    EXPECT_NE(storage->detail().find("log file header"), std::string::npos) << storage->detail();
  }
}

TEST_F(BitFlipTest, CheckpointFlipIsUntrustworthy) {
  std::mt19937_64 rng(106);
  for (int trial = 0; trial < kTrials / 3; ++trial) {
    const std::size_t offset = rng() % snapshot_file_.size();
    auto storage = flip_and_open(snapshot_name_.c_str(), offset, rng);
    ASSERT_EQ(storage->opened(), Opened::recover_untrustworthy) << "byte " << offset;
    EXPECT_NE(storage->detail().find("checkpoint"), std::string::npos) << storage->detail();
  }
}

TEST_F(BitFlipTest, FlipAnywhereInTheLogIsDetectedOrHarmless) {
  std::mt19937_64 rng(107);
  std::map<std::string, int> outcomes;
  for (int trial = 0; trial < 3 * kTrials; ++trial) {
    const std::size_t offset = rng() % log_file_.size();
    SCOPED_TRACE("byte " + std::to_string(offset));
    auto storage = flip_and_open(kLogFile, offset, rng);
    if (offset < kLogHeaderEncoded) {
      ASSERT_EQ(storage->opened(), Opened::recover_untrustworthy);
      ++outcomes["untrustworthy"];
      continue;
    }
    ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
    expect_same_entries(storage->journal(), 1);
    ++outcomes[storage->journal().log().faulty().empty() ? "intact" : "one faulty"];
  }
  for (const auto& [outcome, n] : outcomes)
    std::printf("  %s: %d\n", outcome.c_str(), n);
}

}  // namespace
}  // namespace vsr::storage::test
