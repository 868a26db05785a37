// Small POSIX helpers shared by the storage files: an owned descriptor, directory
// syncs, and whole writes and reads that retry on EINTR and short counts.
#pragma once

#include <filesystem>
#include <optional>
#include <utility>

#include "common/codec.h"

namespace vsr::storage {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);
  // Gives up ownership: the caller closes it.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Opens a directory (for fsync and *at calls). Throws Error.
UniqueFd open_directory(const std::filesystem::path& dir);
// Makes the directory's entries (creations, renames, removals) durable. Fatal on error.
void sync_directory(const std::filesystem::path& dir);

// Writes all of `data` at the file's position. Returns 0 or an errno value.
int write_all(int fd, ByteView data);
// Reads the whole regular file, if it is at most max_bytes long. nullopt with
// errno-style `err` set on failure (ENOENT if it does not exist, EFBIG if too long).
std::optional<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes, int& err);

}  // namespace vsr::storage
