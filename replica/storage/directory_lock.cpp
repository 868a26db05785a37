#include "replica/storage/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "replica/storage/error.h"

namespace vsr::storage {

DirectoryLock::DirectoryLock(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / kFileName;
  fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd_.valid()) throw os_error("cannot open the lock file", path, errno);
  int rc = 0;
  do {
    rc = ::flock(fd_.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EWOULDBLOCK) throw os_error("cannot lock", path, errno);
    char text[32] = {};
    const ssize_t n = ::pread(fd_.get(), text, sizeof(text) - 1, 0);
    const std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "";
    throw Error(ErrorCode::locked,
                dir.string() + " is in use by another process" +
                    (holder.empty() ? "" : " (pid " + holder.substr(0, holder.find('\n')) + ")") +
                    ": two processes must never write one replica's files. Stop that process "
                    "first, or give this replica another id or data directory.");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // Informational only: a failure here leaves an older pid in the message.
  if (::ftruncate(fd_.get(), 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_.get(), pid.data(), pid.size(), 0);
  }
}

}  // namespace vsr::storage
