#include "replica/storage/error.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vsr::storage {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::locked:
      return "locked";
    case ErrorCode::refused:
      return "refused";
    case ErrorCode::already_formatted:
      return "already_formatted";
    case ErrorCode::bad_file:
      return "bad_file";
    case ErrorCode::permission:
      return "permission";
    case ErrorCode::no_space:
      return "no_space";
    case ErrorCode::os_error:
      return "os_error";
  }
  return "unknown";
}

Error os_error(const std::string& what, const std::filesystem::path& path, int err) {
  std::string message = what + " " + path.string() + ": " + std::strerror(err);
  switch (err) {
    case EACCES:
    case EPERM:
      return Error(ErrorCode::permission,
                   message +
                       " (run the replica as a user that may write there, or choose "
                       "another data directory)");
    case EROFS:
      return Error(ErrorCode::permission,
                   message + " (the file system is read-only: choose another data directory)");
    case ENOSPC:
    case EDQUOT:
      return Error(ErrorCode::no_space,
                   message + " (free space on that file system, or use a smaller log geometry)");
    default:
      return Error(ErrorCode::os_error, message);
  }
}

void io_fatal(const std::string& what, const std::filesystem::path& path, int err) {
  std::fprintf(stderr,
               "vsr: fatal: %s %s: %s\n"
               "vsr: not retried: after a failed write or sync the kernel may have dropped the "
               "data, so its state on disk is unknown. Check the disk (dmesg) and free space, "
               "then restart the replica; if its data is damaged it recovers from its peers.\n",
               what.c_str(), path.c_str(), std::strerror(err));
  std::fflush(stderr);
  std::abort();
}

}  // namespace vsr::storage
