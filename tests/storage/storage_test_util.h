// Helpers for the storage tests: temporary directories, a small geometry whose
// ring wraps quickly, entries chained onto a journal's head, and raw file access
// for corrupting files behind the journal's back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "replica/core/entry.h"
#include "replica/journal/journal.h"
#include "replica/storage/replica_storage.h"

namespace vsr::storage::test {

inline constexpr std::uint64_t kCluster = 0x5eed;

// A fresh directory /tmp/vsr-storage-<test>-<pid>-<n>, removed (recursively) on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// 64 slots and a 32 KiB ring: a few dozen entries wrap it.
journal::Geometry small_geometry();
journal::Identity identity(ReplicaId replica = 0, std::uint64_t cluster = kCluster);
StorageOptions options(const std::filesystem::path& data, SyncMode mode = SyncMode::none,
                       ReplicaId replica = 0);

// The next entry after the journal's head: view `view`, a body of `size` bytes
// drawn from `rng`.
Entry next_entry(const journal::Journal& journal, ViewNumber view, std::size_t size,
                 std::mt19937_64& rng);
// Entries chained after `parent` at `op`.
Entry make_entry(OpNumber op, Checksum parent, ViewNumber view, std::size_t size,
                 std::mt19937_64& rng);

// Checkpoint state bytes that say which op and entry they belong to, so a reader
// can check a state it got back: op, checksum, then `filler` bytes of a pattern.
Bytes make_state(OpNumber op, Checksum checksum, std::size_t filler);
bool state_matches(ByteView state, OpNumber op, Checksum checksum);

Bytes read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, ByteView bytes);  // whole file, in place
void flip_bit(const std::filesystem::path& path, std::size_t offset, int bit);
// A digest of every file in a directory (names, modes and contents; not the lock
// file), to show that an operation left it untouched.
std::string digest_directory(const std::filesystem::path& dir);

// Where a held entry lives in the log file (log_ring.h's layout).
struct EntryLocation {
  std::size_t slot = 0;         // 64 bytes: header, ring offset, slot checksum
  std::size_t ring_header = 0;  // EntryHeader::kEncodedSize bytes
  std::size_t body = 0;         // header.body_size bytes
};
EntryLocation locate(const journal::Geometry& geometry, ByteView log_file, OpNumber op);

}  // namespace vsr::storage::test
