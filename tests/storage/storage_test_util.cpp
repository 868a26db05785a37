#include "tests/storage/storage_test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "common/checksum.h"

namespace vsr::storage::test {

namespace {
std::atomic<int> next_dir{0};
}

TempDir::TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? info->name() : "test";
  std::replace(name.begin(), name.end(), '/', '_');
  path_ =
      std::filesystem::path("/tmp") /
      ("vsr-storage-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directory(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave a directory unwritable; make it removable again.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) ::chmod(it->path().c_str(), 0700);
  }
  ::chmod(path_.c_str(), 0700);
  std::filesystem::remove_all(path_, ec);
}

journal::Geometry small_geometry() {
  return journal::Geometry{64, 32 * 1024};
}

journal::Identity identity(ReplicaId replica, std::uint64_t cluster) {
  return journal::Identity{cluster, replica, 3};
}

StorageOptions options(const std::filesystem::path& data, SyncMode mode, ReplicaId replica) {
  return StorageOptions{data, identity(replica), small_geometry(), mode};
}

Entry make_entry(OpNumber op, Checksum parent, ViewNumber view, std::size_t size,
                 std::mt19937_64& rng) {
  Entry e;
  e.body.resize(size);
  for (auto& b : e.body)
    b = static_cast<std::byte>(rng());
  e.header.parent = parent;
  e.header.cluster = kCluster;
  e.header.view = view;
  e.header.op = op;
  e.header.seal(e.body);
  return e;
}

Entry next_entry(const journal::Journal& journal, ViewNumber view, std::size_t size,
                 std::mt19937_64& rng) {
  const OpNumber head = journal.log().head();
  return make_entry(head.next(), *journal.log().checksum_at(head), view, size, rng);
}

Bytes make_state(OpNumber op, Checksum checksum, std::size_t filler) {
  Bytes out;
  Writer w(out);
  w.put(op.value());
  w.put(checksum);
  w.put(static_cast<std::uint32_t>(filler));
  for (std::size_t i = 0; i < filler; ++i)
    w.put(static_cast<std::uint8_t>(op.value() + i));
  return out;
}

bool state_matches(ByteView state, OpNumber op, Checksum checksum) {
  Reader r(state);
  if (r.get<std::uint64_t>() != op.value() || r.get<Checksum>() != checksum) return false;
  const auto filler = r.get<std::uint32_t>();
  for (std::uint32_t i = 0; i < filler; ++i) {
    if (r.get<std::uint8_t>() != static_cast<std::uint8_t>(op.value() + i)) return false;
  }
  return r.done();
}

Bytes read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Bytes out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

void write_bytes(const std::filesystem::path& path, ByteView bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string());
  const bool ok = ::pwrite(fd, bytes.data(), bytes.size(), 0) == ssize_t(bytes.size()) &&
                  ::ftruncate(fd, static_cast<off_t>(bytes.size())) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("short write to " + path.string());
}

void flip_bit(const std::filesystem::path& path, std::size_t offset, int bit) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  unsigned char b = 0;
  bool ok = ::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  b ^= static_cast<unsigned char>(1u << bit);
  ok = ok && ::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot flip a bit in " + path.string());
}

std::string digest_directory(const std::filesystem::path& dir) {
  std::map<std::string, std::string> entries;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    // Taking the lock rewrites the holder's pid in it; it holds no state.
    if (e.path().filename() == DirectoryLock::kFileName) continue;
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    std::string line = std::to_string(st.st_mode) + " " + std::to_string(st.st_size);
    if (e.is_regular_file()) {
      const Bytes b = read_bytes(e.path());
      line += " " + std::to_string(checksum(b));
    }
    entries[e.path().lexically_relative(dir).string()] = line;
  }
  std::string out;
  for (const auto& [name, line] : entries)
    out += name + ": " + line + "\n";
  return out;
}

EntryLocation locate(const journal::Geometry& geometry, ByteView log_file, OpNumber op) {
  EntryLocation at;
  at.slot = journal::kLogHeaderSize + (op.value() % geometry.slot_count) * journal::kSlotSize;
  std::uint32_t units = 0;
  std::memcpy(&units, log_file.data() + at.slot + EntryHeader::kEncodedSize, 4);
  at.ring_header = journal::ring_start(geometry) + std::size_t{units} * 8;
  at.body = at.ring_header + EntryHeader::kEncodedSize;
  return at;
}

}  // namespace vsr::storage::test
