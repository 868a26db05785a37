#include "replica/storage/file_snapshot_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common/assert.h"
#include "replica/core/limits.h"
#include "replica/storage/error.h"
#include "replica/storage/file.h"

namespace vsr::storage {

namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kTmpSuffix = ".tmp";
// A blob is the state plus a small header (journal.cpp); anything larger is not ours.
constexpr std::size_t kMaxBlobBytes = limits::kCheckpointBytes + 4096;

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) io_fatal("cannot list directory", dir, ec.value());
  return names;
}

}  // namespace

void FileSnapshotStore::remove_temporaries() {
  for (const std::string& name : names_in(dir_)) {
    if (!is_temporary(name)) continue;
    // A write that died before its rename: never referenced by any superblock.
    if (::unlink((dir_ / name).c_str()) != 0 && errno != ENOENT) {
      throw os_error("cannot remove the leftover", dir_ / name, errno);
    }
  }
}

std::string FileSnapshotStore::file_name(OpNumber op) {
  return std::string(kPrefix) + std::to_string(op.value());
}

std::optional<OpNumber> FileSnapshotStore::parse_file_name(const std::string& name) {
  if (!name.starts_with(kPrefix)) return std::nullopt;
  const std::string_view digits = std::string_view(name).substr(kPrefix.size());
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  // Only the canonical spelling, so "snapshot-007" or "snapshot-+7" are left alone.
  if (std::to_string(value) != digits) return std::nullopt;
  return OpNumber(value);
}

bool FileSnapshotStore::is_temporary(const std::string& name) {
  return name.ends_with(kTmpSuffix) &&
         parse_file_name(name.substr(0, name.size() - kTmpSuffix.size())).has_value();
}

void FileSnapshotStore::write(OpNumber op, ByteView blob) {
  VSR_ASSERT(blob.size() <= kMaxBlobBytes);
  const std::filesystem::path final_path = dir_ / file_name(op);
  std::filesystem::path tmp = final_path;
  tmp += kTmpSuffix;
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) io_fatal("cannot create checkpoint file", tmp, errno);
  if (const int err = write_all(fd.get(), blob); err != 0) {
    ::unlink(tmp.c_str());  // best effort: a full disk should not stay full of our leftovers
    io_fatal("cannot write checkpoint file", tmp, err);
  }
  // The data must be on disk before the name points at it, or a power loss could
  // leave a complete-looking name over missing blocks.
  if (durable_ && ::fsync(fd.get()) != 0) io_fatal("fsync of checkpoint file", tmp, errno);
  fd.reset();
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    io_fatal("cannot rename checkpoint file to", final_path, errno);
  }
  if (durable_) sync_directory(dir_);
}

std::optional<Bytes> FileSnapshotStore::read(OpNumber op) const {
  const std::filesystem::path path = dir_ / file_name(op);
  int err = 0;
  auto bytes = read_file(path, kMaxBlobBytes, err);
  if (bytes) return bytes;
  // Missing or impossibly large: the journal treats it as a lost checkpoint.
  if (err == ENOENT || err == EFBIG || err == EINVAL) return std::nullopt;
  io_fatal("cannot read checkpoint file", path, err);
}

void FileSnapshotStore::remove_older_than(OpNumber op) {
  // No directory fsync: an old snapshot that reappears after a power loss is only
  // unused space, removed at the next checkpoint.
  for (const std::string& name : names_in(dir_)) {
    const auto at = parse_file_name(name);
    if (!at || *at >= op) continue;
    if (::unlink((dir_ / name).c_str()) != 0 && errno != ENOENT) {
      io_fatal("cannot remove old checkpoint file", dir_ / name, errno);
    }
  }
}

std::vector<OpNumber> FileSnapshotStore::ops() const {
  std::vector<OpNumber> out;
  for (const std::string& name : names_in(dir_)) {
    if (auto op = parse_file_name(name)) out.push_back(*op);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vsr::storage
