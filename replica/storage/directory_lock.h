// An exclusive flock on `<dir>/lock`, held for the lifetime of the object.
//
// Two processes writing one replica's files would corrupt them, so a replica (or
// the supervisor formatting it) takes this lock before it touches anything. It is a
// kernel lock: the kernel releases it when the holder dies, however it dies, so a
// SIGKILLed replica never leaves its directory locked. The file also holds the
// holder's pid, only to name it in the error another process gets.
#pragma once

#include <filesystem>

#include "replica/storage/file.h"

namespace vsr::storage {

class DirectoryLock {
 public:
  static constexpr const char* kFileName = "lock";

  // Throws Error(locked) naming the holder's pid if another open file holds it
  // (another process, or this one through another DirectoryLock).
  explicit DirectoryLock(const std::filesystem::path& dir);

 private:
  UniqueFd fd_;
};

}  // namespace vsr::storage
