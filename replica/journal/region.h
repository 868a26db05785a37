// Where the journal's bytes live: a fixed-size byte range that outlives the
// process (an mmap'd file in the service, plain memory in the simulator).
//
// Every journal write goes through write(), so a test region can stop a "process"
// at any write and tear it. For a file mapping a write lands in the page cache, so
// it survives a SIGKILL of this process the moment it returns; sync() makes it
// survive losing the host (sync mode `batch`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>

#include "common/assert.h"
#include "common/codec.h"
#include "replica/core/types.h"

namespace vsr::journal {

class Region {
 public:
  virtual ~Region() = default;
  virtual ByteView bytes() const = 0;
  virtual void write(std::size_t offset, ByteView data) = 0;
  // Durable on return. An I/O error here is fatal (never retried): the
  // implementation aborts the process.
  virtual void sync() = 0;
  std::size_t size() const { return bytes().size(); }
};

// Checkpoint blobs by op. write() is durable and atomic on return: a reader sees
// the whole blob or nothing (for files: temporary file, fsync, rename, fsync dir).
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  virtual void write(OpNumber op, ByteView blob) = 0;
  virtual std::optional<Bytes> read(OpNumber op) const = 0;
  virtual void remove_older_than(OpNumber op) = 0;
};

// Thrown at a simulated process death: the step stops at that instruction, as it
// would under SIGKILL. Whoever catches it discards the process (never the storage).
struct ProcessKilled {};

// A simulated process death shared by one replica's regions and snapshot store:
// armed with a number of writes, it tears the write at that point (only a prefix
// lands) and then throws ProcessKilled.
struct CrashPoint {
  bool armed = false;
  bool crashed = false;
  std::size_t writes_left = 0;
  std::size_t torn_bytes = 0;

  void arm(std::size_t writes, std::size_t torn) {
    armed = true;
    crashed = false;
    writes_left = writes;
    torn_bytes = torn;
  }
  void disarm() { armed = crashed = false; }
  // How many of `size` bytes of the next write land.
  std::size_t admit(std::size_t size) {
    if (crashed) return 0;
    if (!armed) return size;
    if (writes_left-- > 0) return size;
    crashed = true;
    return std::min(size, torn_bytes);
  }
};

// Plain memory (tests and the simulator).
class MemoryRegion final : public Region {
 public:
  explicit MemoryRegion(std::size_t size, CrashPoint* crash = nullptr)
      : bytes_(size), crash_(crash) {}
  ByteView bytes() const override { return bytes_; }
  void write(std::size_t offset, ByteView data) override {
    VSR_ASSERT(offset <= bytes_.size() && data.size() <= bytes_.size() - offset);
    const std::size_t n = crash_ ? crash_->admit(data.size()) : data.size();
    if (n != 0) std::memcpy(bytes_.data() + offset, data.data(), n);
    if (tracking_ && n != 0) {
      unsynced_.push_back(Unsynced{++writes_, offset, Bytes(data.begin(), data.begin() + n)});
      // The kernel writes pages back on its own too: the oldest become durable.
      while (unsynced_.size() > kUnsyncedMax)
        make_durable_through(unsynced_.front().sequence);
    }
    if (crash_ && crash_->crashed) throw ProcessKilled{};
  }
  void sync() override {
    ++syncs_;
    if (tracking_) make_durable_through(writes_);
  }
  std::span<std::byte> mutable_bytes() { return bytes_; }  // for bit flips in tests
  void wipe() {
    std::fill(bytes_.begin(), bytes_.end(), std::byte{0});
    if (tracking_) track_durability();
  }
  std::size_t syncs() const { return syncs_; }

  // The simulator's power-loss model. Once tracking, a write is durable only after a
  // sync() or make_durable_through() covering it (writes are numbered from 1 by
  // writes()); lose_unsynced() puts back what was durable, as a power cut would (every
  // unsynced write lost: one of the outcomes a real cut allows).
  void track_durability() {
    tracking_ = true;
    durable_ = bytes_;
    unsynced_.clear();
  }
  std::uint64_t writes() const { return writes_; }
  bool has_unsynced() const { return !unsynced_.empty(); }
  void make_durable_through(std::uint64_t sequence) {
    while (!unsynced_.empty() && unsynced_.front().sequence <= sequence) {
      const Unsynced& w = unsynced_.front();
      std::memcpy(durable_.data() + w.offset, w.data.data(), w.data.size());
      unsynced_.pop_front();
    }
  }
  void lose_unsynced() {
    VSR_ASSERT(tracking_);
    bytes_ = durable_;
    unsynced_.clear();
  }
  // The other outcomes: the kernel wrote back some of the dirty pages before the cut,
  // in any order. Each 4 KiB page keeps the durable image plus its first k unsynced
  // writes, k drawn by `draw(n)` in [0, n] per page (what writeback of that page at
  // some moment would have taken; pages are independent).
  template <typename Draw>
  void lose_unsynced_pages(Draw&& draw) {
    VSR_ASSERT(tracking_);
    constexpr std::size_t kPage = 4096;
    std::map<std::size_t, std::uint64_t> writes_to;  // page -> unsynced writes touching it
    for (const Unsynced& w : unsynced_) {
      for (std::size_t p = w.offset / kPage; p <= (w.offset + w.data.size() - 1) / kPage; ++p)
        ++writes_to[p];
    }
    std::map<std::size_t, std::uint64_t> keep;  // page -> how many of its writes survive
    for (const auto& [page, n] : writes_to)
      keep[page] = draw(n);
    Bytes out = durable_;
    std::map<std::size_t, std::uint64_t> seen;
    for (const Unsynced& w : unsynced_) {
      const std::size_t end = w.offset + w.data.size();
      for (std::size_t p = w.offset / kPage; p <= (end - 1) / kPage; ++p) {
        if (seen[p]++ >= keep[p]) continue;
        const std::size_t from = std::max(w.offset, p * kPage);
        const std::size_t to = std::min(end, (p + 1) * kPage);
        std::memcpy(out.data() + from, w.data.data() + (from - w.offset), to - from);
      }
    }
    bytes_ = out;
    durable_ = std::move(out);
    unsynced_.clear();
  }

 private:
  struct Unsynced {
    std::uint64_t sequence = 0;
    std::size_t offset = 0;
    Bytes data;
  };
  static constexpr std::size_t kUnsyncedMax = 4096;

  Bytes bytes_;
  CrashPoint* crash_;
  std::size_t syncs_ = 0;
  bool tracking_ = false;
  std::uint64_t writes_ = 0;
  Bytes durable_;
  std::deque<Unsynced> unsynced_;
};

// Blobs in memory. A write is atomic: at the crash point it is lost whole (as a
// rename that never happened).
class MemorySnapshotStore final : public SnapshotStore {
 public:
  explicit MemorySnapshotStore(CrashPoint* crash = nullptr) : crash_(crash) {}
  void write(OpNumber op, ByteView blob) override {
    if (crash_ && crash_->admit(blob.size()) != blob.size()) throw ProcessKilled{};
    blobs_[op].assign(blob.begin(), blob.end());
  }
  std::optional<Bytes> read(OpNumber op) const override {
    auto it = blobs_.find(op);
    if (it == blobs_.end()) return std::nullopt;
    return it->second;
  }
  void remove_older_than(OpNumber op) override {
    if (crash_ && crash_->crashed) return;
    blobs_.erase(blobs_.begin(), blobs_.lower_bound(op));
  }
  std::map<OpNumber, Bytes>& blobs() { return blobs_; }
  void clear() { blobs_.clear(); }

 private:
  std::map<OpNumber, Bytes> blobs_;
  CrashPoint* crash_;
};

}  // namespace vsr::journal
