#include "replica/storage/mmap_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/assert.h"
#include "replica/storage/error.h"
#include "replica/storage/file.h"

namespace vsr::storage {

namespace {

// Gives every byte of [0, size) its blocks. posix_fallocate returns the error
// instead of setting errno.
void preallocate(int fd, const std::filesystem::path& path, std::size_t size) {
  int err = 0;
  do {
    err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  } while (err == EINTR);
  if (err != 0)
    throw os_error("cannot preallocate " + std::to_string(size) + " bytes for", path, err);
}

std::byte* map(int fd, const std::filesystem::path& path, std::size_t size) {
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) throw os_error("cannot map", path, errno);
  return static_cast<std::byte*>(base);
}

}  // namespace

MmapRegion::MmapRegion(std::filesystem::path path, int fd, std::byte* base, std::size_t size,
                       SyncMode mode, Writes writes)
    : path_(std::move(path)),
      fd_(fd),
      base_(base),
      size_(size),
      mode_(mode),
      writes_(writes),
      page_size_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {
  VSR_ASSERT(base_ != nullptr && size_ > 0);
  VSR_ASSERT(page_size_ > 0 && (page_size_ & (page_size_ - 1)) == 0);
  // Held writes reach the file only through sync(): in mode none only the test
  // build's write-behind switch holds writes (and then calls sync() itself).
  if (writes_ == Writes::at_sync) held_.assign(base_, base_ + size_);
}

MmapRegion::~MmapRegion() {
  // No sync here: a region closes as a process dies, and the page cache keeps
  // every write either way.
  ::munmap(base_, size_);
  ::close(fd_);
}

std::unique_ptr<MmapRegion> MmapRegion::create(const std::filesystem::path& path, std::size_t size,
                                               SyncMode mode, Writes writes) {
  VSR_ASSERT(size > 0);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  // A .tmp left by a crash in here is ours and incomplete: start it over.
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) throw os_error("cannot create", tmp, errno);
  try {
    preallocate(fd.get(), path, size);
    if (::fsync(fd.get()) != 0) throw os_error("cannot fsync", tmp, errno);
    // RENAME_NOREPLACE: an existing file is never overwritten by a blank one.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
      throw os_error("cannot rename " + tmp.string() + " to", path, errno);
    }
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory(path.parent_path());
  std::unique_ptr<MmapRegion> region(
      new MmapRegion(path, fd.get(), map(fd.get(), path, size), size, mode, writes));
  fd.release();  // the region owns it now
  return region;
}

std::unique_ptr<MmapRegion> MmapRegion::open(const std::filesystem::path& path, std::size_t size,
                                             SyncMode mode, Writes writes) {
  VSR_ASSERT(size > 0);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) throw os_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::bad_file, path.string() + " is not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) != size) {
    throw Error(ErrorCode::bad_file,
                path.string() + " is " + std::to_string(st.st_size) + " bytes, but " +
                    std::to_string(size) +
                    " are expected: it was truncated, or made with another log geometry. "
                    "Start the replica with the geometry the data was made with, or move the "
                    "replica's directory away to have it recover its state from its peers.");
  }
  // Cheap when every block is allocated; allocates the holes of a sparse copy, so a
  // full disk is this error and not a SIGBUS at some later write.
  preallocate(fd.get(), path, size);
  // Sync mode batch: a killed predecessor may have left writes in the page cache that
  // it never synced. This process reads them as its state and would vouch for them (a
  // PrepareOk, the primary's own vote) after a sync that finds nothing of its own to
  // write: make them durable before anything is read.
  if (mode == SyncMode::batch && ::fdatasync(fd.get()) != 0) {
    throw os_error("cannot fdatasync", path, errno);
  }
  std::byte* base = map(fd.get(), path, size);
  // Opening reads the whole file next (the journal checks every entry): start
  // reading all of it now, in large requests, instead of a fault at a time. Only
  // advice: a failure changes nothing but speed.
  ::madvise(base, size, MADV_WILLNEED);
  std::unique_ptr<MmapRegion> region(new MmapRegion(path, fd.get(), base, size, mode, writes));
  fd.release();  // the region owns it now
  return region;
}

void MmapRegion::write_file(std::size_t offset, const std::byte* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd_, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) io_fatal("write to", path_, n < 0 ? errno : EIO);
    data += n;
    offset += static_cast<std::size_t>(n);
    size -= static_cast<std::size_t>(n);
  }
}

void MmapRegion::write(std::size_t offset, ByteView data) {
  VSR_ASSERT(offset <= size_ && data.size() <= size_ - offset);
  if (data.empty()) return;
  if (writes_ == Writes::at_sync) {
    std::memcpy(held_.data() + offset, data.data(), data.size());
  } else if (mode_ == SyncMode::batch) {
    write_file(offset, data.data(), data.size());
  } else {
    std::memcpy(base_ + offset, data.data(), data.size());
  }
  const std::size_t begin = offset & ~(page_size_ - 1);
  const std::size_t end =
      std::min(size_, (offset + data.size() + page_size_ - 1) & ~(page_size_ - 1));
  if (dirty_begin_ == dirty_end_) {
    dirty_begin_ = begin;
    dirty_end_ = end;
  } else {
    dirty_begin_ = std::min(dirty_begin_, begin);
    dirty_end_ = std::max(dirty_end_, end);
  }
}

void MmapRegion::sync_file_data() const {
  VSR_ASSERT(mode_ == SyncMode::batch && writes_ == Writes::immediate);
  if (::fdatasync(fd_) != 0) io_fatal("fdatasync of", path_, errno);
}

void MmapRegion::sync() {
  if (dirty_begin_ == dirty_end_) return;
  if (mode_ == SyncMode::batch) {
    if (writes_ == Writes::at_sync) {
      write_file(dirty_begin_, held_.data() + dirty_begin_, dirty_end_ - dirty_begin_);
    }
    ++syncs_;
    if (::fdatasync(fd_) != 0) io_fatal("fdatasync of", path_, errno);
  } else if (writes_ == Writes::at_sync) {
    std::memcpy(base_ + dirty_begin_, held_.data() + dirty_begin_, dirty_end_ - dirty_begin_);
  }
  dirty_begin_ = dirty_end_ = 0;
}

}  // namespace vsr::storage
