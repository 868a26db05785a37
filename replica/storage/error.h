// How durable storage reports errors.
//
// Opening a replica's storage (bad input, another process, a full disk) throws
// storage::Error with a message that names the file or directory and says what to
// do; nothing on disk has been changed when it is thrown, except that a full disk
// can leave the replica's directory empty of state (it then recovers from its peers).
//
// Once the storage is open, the journal writes into memory mappings and cannot
// fail; an I/O error after that point (a failed msync, fsync, snapshot write) is
// fatal: io_fatal() prints why and aborts. It is never retried: after a failed
// sync the kernel may have dropped the dirty pages, so a retry that succeeds would
// claim durability for data that is gone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace vsr::storage {

enum class ErrorCode : std::uint8_t {
  invalid_argument,   // bad geometry or identity from the caller
  locked,             // another live process holds the replica's directory
  refused,            // data of another cluster or replica, geometry or a newer layout
  already_formatted,  // format_new_cluster over a directory that holds data
  bad_file,           // a file of the wrong size or kind (truncated, damaged directory)
  permission,         // cannot create or write a file or directory
  no_space,           // the file system cannot hold the preallocated files
  os_error,           // any other system call failure
};

const char* to_string(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// An Error for a failed system call on `path`: the code follows errno (EACCES,
// EPERM and EROFS are `permission`; ENOSPC and EDQUOT are `no_space`).
Error os_error(const std::string& what, const std::filesystem::path& path, int err);

// Prints "vsr: fatal: <what> <path>: <strerror(err)>" and why it is not retried,
// then aborts.
[[noreturn]] void io_fatal(const std::string& what, const std::filesystem::path& path, int err);

}  // namespace vsr::storage
