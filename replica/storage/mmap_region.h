// A journal Region over a memory-mapped file.
//
// The file is preallocated (fallocate) when it is created and again when it is
// opened, so every page already has its blocks: a full disk is an Error while
// opening, never a SIGBUS in the middle of a write. The blocks are left "unwritten"
// (not filled with zeros) on purpose: alone, a 4 KiB write + fdatasync into blocks
// written once is faster (193-217 us against 293-337 us p50, extent conversion commits
// the file system's journal), but three replicas syncing at once on one disk were
// slower (p50 ~455 us against ~330 us: the journal commits of concurrent syncs share
// one device flush, plain data syncs each pay their own), and a cluster with zero-
// filled files was slower at one session (p50 578 against 408 us, interleaved). The mapping is MAP_SHARED, so a
// write() is a memcpy into the page cache and survives a SIGKILL of this process
// the moment it returns.
//
// In sync mode `batch`, write() is a pwrite() into the same page cache (the mapping
// sees it at once) and sync() is one fdatasync() of the file: the file's only dirty
// pages are ours, so that writes what changed and costs one device flush. Writing
// through the mapping instead costs a page fault per page per sync cycle (writeback
// write-protects the pages again): measured here, a 4 KiB mmap write + msync took
// 561 us at the median against 278-322 us for pwrite + fdatasync (storage-bench).
// In sync mode `none`, write() is a memcpy into the mapping and sync() does nothing
// (that mode promises only survival of the process, which the page cache already
// gives). A failed write or sync is fatal.
//
// Writes::at_sync (the superblock in sync mode batch) keeps writes in process
// memory until sync(), which copies them into the mapping and msyncs them. A page
// of a shared mapping can be written back by the kernel at any moment, so a
// superblock written straight into it could reach the disk before the log writes
// it describes (a new view over an old log, after a power cut). Holding it back
// lets Journal::sync() order the two: the log first, then the superblock. A
// SIGKILL loses the superblock writes since the last sync, which is the same
// state a power cut before that sync leaves, and the journal accepts it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <utility>

#include "replica/journal/region.h"
#include "replica/storage/sync_mode.h"

namespace vsr::storage {

class MmapRegion final : public journal::Region {
 public:
  enum class Writes {
    immediate,  // write() copies into the shared mapping (the page cache)
    at_sync,    // write() copies into process memory; sync() moves it to the mapping
  };

  // Creates `path` (which must not exist) with `size` zero bytes, all allocated, and
  // makes the file and its directory entry durable before mapping it. The file is
  // built as `<path>.tmp` and renamed, so `path` never exists with the wrong size.
  // Throws Error (no_space if the file system cannot hold it).
  static std::unique_ptr<MmapRegion> create(const std::filesystem::path& path, std::size_t size,
                                            SyncMode mode, Writes writes = Writes::immediate);
  // Opens an existing `path`, which must be a regular file of exactly `size` bytes
  // (never extended or shrunk here). In sync mode batch, syncs what the page cache
  // holds of it first (a killed predecessor's unsynced writes). Throws Error.
  static std::unique_ptr<MmapRegion> open(const std::filesystem::path& path, std::size_t size,
                                          SyncMode mode, Writes writes = Writes::immediate);

  ~MmapRegion() override;
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;

  ByteView bytes() const override {
    return writes_ == Writes::at_sync ? ByteView(held_) : ByteView(base_, size_);
  }
  void write(std::size_t offset, ByteView data) override;
  void sync() override;
  // One fdatasync of the file, nothing else: every write() made before the call is
  // durable when it returns (sync mode batch writes with pwrite, Writes::immediate).
  // Touches no member but the descriptor, so another thread may call it while this
  // one writes (what a later sync() still covers is unchanged). A failure is fatal.
  void sync_file_data() const;

  const std::filesystem::path& path() const { return path_; }
  // Page-aligned [begin, end) of the bytes written since the last sync (empty:
  // begin == end). For tests.
  std::pair<std::size_t, std::size_t> dirty_range() const { return {dirty_begin_, dirty_end_}; }
  std::size_t syncs() const { return syncs_; }

 private:
  MmapRegion(std::filesystem::path path, int fd, std::byte* base, std::size_t size, SyncMode mode,
             Writes writes);
  // pwrite() of all of `data` at `offset` (sync mode batch), fatal on failure.
  void write_file(std::size_t offset, const std::byte* data, std::size_t size);

  std::filesystem::path path_;
  int fd_;  // kept open: sync mode batch writes and syncs through it
  std::byte* base_;
  std::size_t size_;
  SyncMode mode_;
  Writes writes_;
  Bytes held_;  // Writes::at_sync: the region as this process sees it
  std::size_t page_size_;
  std::size_t dirty_begin_ = 0;
  std::size_t dirty_end_ = 0;
  std::size_t syncs_ = 0;  // device syncs made (fdatasync)
};

}  // namespace vsr::storage
