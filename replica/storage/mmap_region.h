// A journal Region over a memory-mapped file.
//
// The file is preallocated (fallocate) when it is created and again when it is
// opened, so every page already has its blocks: a full disk is an Error while
// opening, never a SIGBUS in the middle of a write. The mapping is MAP_SHARED, so a
// write() is a memcpy into the page cache and survives a SIGKILL of this process
// the moment it returns.
//
// sync() makes the writes since the last sync durable: one msync(MS_SYNC) over the
// pages written since then. Only the hull of the dirty pages is tracked: the kernel
// keeps its own dirty tags and writes only the dirty pages inside the range, so one
// call over the hull (say, a slot page and the ring pages of a batch) writes what
// changed and costs one device flush, where one call per range would cost one each.
// In sync mode `none`, sync() does nothing (that mode promises only survival of the
// process, which the page cache already gives). A failed sync is fatal.
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
  // (never extended or shrunk here). Throws Error.
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

  const std::filesystem::path& path() const { return path_; }
  // Page-aligned [begin, end) of the bytes written since the last sync (empty:
  // begin == end). For tests.
  std::pair<std::size_t, std::size_t> dirty_range() const { return {dirty_begin_, dirty_end_}; }
  std::size_t syncs() const { return syncs_; }

 private:
  MmapRegion(std::filesystem::path path, std::byte* base, std::size_t size, SyncMode mode,
             Writes writes);

  std::filesystem::path path_;
  std::byte* base_;
  std::size_t size_;
  SyncMode mode_;
  Writes writes_;
  Bytes held_;  // Writes::at_sync: the region as this process sees it
  std::size_t page_size_;
  std::size_t dirty_begin_ = 0;
  std::size_t dirty_end_ = 0;
  std::size_t syncs_ = 0;  // msync calls made
};

}  // namespace vsr::storage
