#include "replica/storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/assert.h"
#include "replica/storage/error.h"

namespace vsr::storage {

void UniqueFd::reset(int fd) {
  // close() may report a deferred write error on some file systems; every write we
  // rely on is synced explicitly first, so its result carries no news here.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

UniqueFd open_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw os_error("cannot open directory", dir, errno);
  return UniqueFd(fd);
}

void sync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) io_fatal("cannot open directory for fsync", dir, errno);
  if (::fsync(fd.get()) != 0) io_fatal("fsync of directory", dir, errno);
}

int write_all(int fd, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    VSR_ASSERT(n > 0);
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

std::optional<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes, int& err) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    err = errno;
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    err = errno;
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    err = EINVAL;
    return std::nullopt;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    err = EFBIG;
    return std::nullopt;
  }
  Bytes out(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return std::nullopt;
    }
    if (n == 0) break;  // shrank while we read: return what is there, the checksum decides
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  err = 0;
  return out;
}

}  // namespace vsr::storage
