// ReplicaStorage and format_new_cluster: the boot decision, the data directory's
// files and permissions, and every bad input refused with a clear error and
// without touching the data.
#include "replica/storage/replica_storage.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "tests/storage/storage_test_util.h"

namespace vsr::storage::test {
namespace {

using Opened = ReplicaStorage::Opened;

std::filesystem::path dir0(const TempDir& tmp) {
  return replica_dir(tmp.path(), 0);
}

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

// Appends `n` entries, checkpointing whenever the journal asks to; returns them.
std::vector<Entry> fill(journal::Journal& journal, int n, std::mt19937_64& rng) {
  std::vector<Entry> entries;
  for (int i = 0; i < n; ++i) {
    if (journal.wants_checkpoint()) {
      const OpNumber op = journal.log().head();
      journal.checkpoint(op, make_state(op, *journal.log().checksum_at(op), 100), op);
    }
    Entry e = next_entry(journal, journal.view(), 1 + rng() % 500, rng);
    EXPECT_TRUE(journal.can_append(e.body.size()));
    journal.append(e.header, e.body);
    entries.push_back(std::move(e));
  }
  return entries;
}

template <typename F>
Error expect_error(F&& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << to_string(e.code()) << ": " << e.what();
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(code, "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SyncMode, ParsesItsTwoNames) {
  EXPECT_EQ(parse_sync_mode("none"), SyncMode::none);
  EXPECT_EQ(parse_sync_mode("batch"), SyncMode::batch);
  EXPECT_EQ(parse_sync_mode("Batch"), std::nullopt);
  EXPECT_EQ(parse_sync_mode(""), std::nullopt);
  EXPECT_EQ(to_string(SyncMode::batch), "batch");
  EXPECT_EQ(to_string(SyncMode::none), "none");
}

TEST(ReplicaStorage, MissingReplicaDirectoryIsCreatedAndRecovers) {
  TempDir tmp;
  auto storage = ReplicaStorage::open(options(tmp.path()), 99);
  EXPECT_EQ(storage->opened(), Opened::recover_new);
  EXPECT_EQ(storage->boot().kind, Boot::Kind::recover);
  EXPECT_EQ(storage->boot().nonce, 99u);
  EXPECT_FALSE(storage->journal().superblock().trustworthy);
  EXPECT_EQ(storage->dir(), dir0(tmp));
  EXPECT_EQ(mode_of(dir0(tmp)), 0700u);
  for (const char* name : {kSuperblockFile, kLogFile, DirectoryLock::kFileName}) {
    EXPECT_EQ(mode_of(dir0(tmp) / name), 0600u) << name;
  }
  EXPECT_EQ(std::filesystem::file_size(dir0(tmp) / kSuperblockFile),
            journal::kSuperblockRegionSize);
  EXPECT_EQ(std::filesystem::file_size(dir0(tmp) / kLogFile),
            journal::log_region_size(small_geometry()));
}

TEST(ReplicaStorage, EmptyReplicaDirectoryRecovers) {
  TempDir tmp;
  std::filesystem::create_directory(dir0(tmp));
  auto storage = ReplicaStorage::open(options(tmp.path()), 1);
  EXPECT_EQ(storage->opened(), Opened::recover_new);
}

TEST(ReplicaStorage, NewClusterRestartsInViewZero) {
  TempDir tmp;
  const auto data = tmp.path() / "cluster";  // created by format_new_cluster
  format_new_cluster(data, identity(), small_geometry());
  EXPECT_EQ(mode_of(data), 0700u);
  auto storage = ReplicaStorage::open(options(data), 1);
  EXPECT_EQ(storage->opened(), Opened::restart);
  EXPECT_EQ(storage->boot().kind, Boot::Kind::restart);
  EXPECT_TRUE(storage->boot().checkpoint_state.empty());
  EXPECT_TRUE(storage->journal().superblock().trustworthy);
  EXPECT_EQ(storage->journal().view(), ViewNumber(0));
  EXPECT_EQ(storage->journal().log().head(), OpNumber(0));
}

TEST(ReplicaStorage, FormatRefusesADirectoryThatHoldsData) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  const std::string before = digest_directory(tmp.path());
  const Error e =
      expect_error([&] { format_new_cluster(tmp.path(), identity(), small_geometry()); },
                   ErrorCode::already_formatted);
  EXPECT_TRUE(contains(e.what(), dir0(tmp).string())) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

TEST(ReplicaStorage, RestartKeepsEntriesViewAndCheckpoint) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  std::mt19937_64 rng(1);
  std::vector<Entry> entries;
  Checksum checkpoint_checksum = 0;
  {
    auto storage = ReplicaStorage::open(options(tmp.path(), SyncMode::batch), 1);
    journal::Journal& j = storage->journal();
    j.persist_view(ViewNumber(3), ViewNumber(3), OpNumber(0));
    entries = fill(j, 150, rng);  // wraps the 32 KiB ring several times
    const OpNumber op = j.log().head().prev();
    checkpoint_checksum = *j.log().checksum_at(op);
    j.checkpoint(op, make_state(op, checkpoint_checksum, 1000), op);
    storage->sync();
  }
  auto storage = ReplicaStorage::open(options(tmp.path(), SyncMode::batch), 1);
  ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
  journal::Journal& j = storage->journal();
  EXPECT_EQ(j.view(), ViewNumber(3));
  EXPECT_EQ(j.checkpoint_op(), OpNumber(149));
  EXPECT_TRUE(state_matches(storage->boot().checkpoint_state, OpNumber(149), checkpoint_checksum));
  EXPECT_EQ(j.log().head(), OpNumber(150));
  EXPECT_TRUE(j.log().faulty().empty());
  const auto last = j.log().entry(OpNumber(150));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->header, entries.back().header);
  EXPECT_TRUE(std::equal(last->body.begin(), last->body.end(), entries.back().body.begin(),
                         entries.back().body.end()));
  // Only the checkpoint the superblock names is kept.
  EXPECT_EQ(FileSnapshotStore(dir0(tmp)).ops(), std::vector<OpNumber>{OpNumber(149)});
}

TEST(ReplicaStorage, UntrustworthyStateIsRecreatedKeepingTheProcessLog) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  std::mt19937_64 rng(2);
  {
    auto storage = ReplicaStorage::open(options(tmp.path()), 1);
    fill(storage->journal(), 100, rng);
  }
  write_bytes(dir0(tmp) / "replica.log", as_bytes(std::string_view("the process's own log")));
  // Both superblock copies damaged: nothing to vote with.
  flip_bit(dir0(tmp) / kSuperblockFile, 20, 3);
  flip_bit(dir0(tmp) / kSuperblockFile, journal::kSuperblockCopySize + 20, 3);
  auto storage = ReplicaStorage::open(options(tmp.path()), 5);
  EXPECT_EQ(storage->opened(), Opened::recover_untrustworthy);
  EXPECT_EQ(storage->boot().kind, Boot::Kind::recover);
  EXPECT_EQ(storage->boot().nonce, 5u);
  EXPECT_TRUE(contains(storage->detail(), "superblock")) << storage->detail();
  EXPECT_EQ(storage->journal().log().head(), OpNumber(0));
  EXPECT_TRUE(FileSnapshotStore(dir0(tmp)).ops().empty());
  EXPECT_EQ(as_string(read_bytes(dir0(tmp) / "replica.log")), "the process's own log");
  // The ring was recreated blank: no old entry can ever be found in it again.
  const Bytes log = read_bytes(dir0(tmp) / kLogFile);
  EXPECT_TRUE(std::all_of(log.begin() + journal::kLogHeaderSize, log.end(),
                          [](std::byte b) { return b == std::byte{0}; }));
}

TEST(ReplicaStorage, ZeroFilledSuperblockRecovers) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  write_bytes(dir0(tmp) / kSuperblockFile, Bytes(journal::kSuperblockRegionSize));
  auto storage = ReplicaStorage::open(options(tmp.path()), 1);
  EXPECT_EQ(storage->opened(), Opened::recover_untrustworthy);
  EXPECT_TRUE(contains(storage->detail(), "blank")) << storage->detail();
}

TEST(ReplicaStorage, LeftoverTemporaryFilesAreRemovedOnOpen) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  write_bytes(dir0(tmp) / "snapshot-12.tmp", as_bytes(std::string_view("torn")));
  auto storage = ReplicaStorage::open(options(tmp.path()), 1);
  EXPECT_EQ(storage->opened(), Opened::restart);
  EXPECT_FALSE(std::filesystem::exists(dir0(tmp) / "snapshot-12.tmp"));
}

// --- Zero-filled tails of the log ---------------------------------------------------

TEST(ReplicaStorage, ZeroFilledLogTailLeavesFaultyEntriesWithTheirHeaders) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), journal::Geometry{64, 64 * 1024});
  StorageOptions opts{tmp.path(), identity(), journal::Geometry{64, 64 * 1024}, SyncMode::none};
  std::mt19937_64 rng(3);
  std::vector<Entry> entries;
  {
    auto storage = ReplicaStorage::open(opts, 1);
    entries = fill(storage->journal(), 12, rng);  // no checkpoint yet; no wrap
  }
  const auto log_path = dir0(tmp) / kLogFile;
  const Bytes before = read_bytes(log_path);
  // Zero the file from the body of op 8 on: ops 8..12 lose bodies and ring headers
  // but keep their slots (written whole once): faulty, never cut.
  const EntryLocation at8 = locate(opts.geometry, before, OpNumber(8));
  Bytes after = before;
  std::fill(after.begin() + static_cast<std::ptrdiff_t>(at8.body), after.end(), std::byte{0});
  write_bytes(log_path, after);

  auto storage = ReplicaStorage::open(opts, 1);
  ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
  const journal::LogRing& log = storage->journal().log();
  EXPECT_EQ(log.head(), OpNumber(12));
  for (std::uint64_t op = 1; op <= 12; ++op) {
    const Entry& e = entries[op - 1];
    if (op < 8) {
      ASSERT_TRUE(log.entry(OpNumber(op)).has_value()) << op;
    } else {
      ASSERT_TRUE(log.faulty().contains(OpNumber(op))) << op;
      EXPECT_EQ(log.faulty().at(OpNumber(op)), e.header);
      EXPECT_FALSE(log.entry(OpNumber(op)).has_value());
    }
  }
}

TEST(ReplicaStorage, ZeroFilledLastEntryIsCutAsATornTail) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  std::mt19937_64 rng(4);
  {
    auto storage = ReplicaStorage::open(options(tmp.path()), 1);
    fill(storage->journal(), 10, rng);
  }
  const auto log_path = dir0(tmp) / kLogFile;
  Bytes log = read_bytes(log_path);
  const EntryLocation at = locate(small_geometry(), log, OpNumber(10));
  std::fill_n(log.begin() + static_cast<std::ptrdiff_t>(at.slot), journal::kSlotSize, std::byte{0});
  std::fill(log.begin() + static_cast<std::ptrdiff_t>(at.ring_header), log.end(), std::byte{0});
  write_bytes(log_path, log);
  auto storage = ReplicaStorage::open(options(tmp.path()), 1);
  ASSERT_EQ(storage->opened(), Opened::restart) << storage->detail();
  EXPECT_EQ(storage->journal().log().head(), OpNumber(9));
  EXPECT_TRUE(storage->journal().log().faulty().empty());
}

// --- Refused: another cluster, replica, geometry or a newer layout ----------------

TEST(ReplicaStorage, AnotherClustersDataIsRefusedUntouched) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(0, 111), small_geometry());
  const std::string before = digest_directory(tmp.path());
  StorageOptions opts = options(tmp.path());
  opts.identity = identity(0, 222);
  const Error e = expect_error([&] { ReplicaStorage::open(opts, 1); }, ErrorCode::refused);
  EXPECT_TRUE(contains(e.what(), "cluster 111")) << e.what();
  EXPECT_TRUE(contains(e.what(), dir0(tmp).string())) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

TEST(ReplicaStorage, AnotherReplicasDataIsRefusedUntouched) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(0), small_geometry());
  std::filesystem::copy(dir0(tmp), replica_dir(tmp.path(), 1));  // an operator's mistake
  const std::string before = digest_directory(tmp.path());
  const Error e = expect_error(
      [&] { ReplicaStorage::open(options(tmp.path(), SyncMode::none, 1), 1); }, ErrorCode::refused);
  EXPECT_TRUE(contains(e.what(), "replica 0 of 3")) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

TEST(ReplicaStorage, AnotherGeometryIsRefusedUntouched) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  const std::string before = digest_directory(tmp.path());
  StorageOptions opts = options(tmp.path());
  opts.geometry.ring_bytes *= 2;
  const Error e = expect_error([&] { ReplicaStorage::open(opts, 1); }, ErrorCode::refused);
  EXPECT_TRUE(contains(e.what(), "geometry")) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

// Rewrites the layout version of both superblock copies, with valid checksums.
// The layout (superblock.cpp): magic u64, version u32, ..., checksum of the 95
// bytes before it, seeded as below.
void set_superblock_version(const std::filesystem::path& path, std::uint32_t version) {
  constexpr std::size_t kCovered = 95;
  constexpr std::uint64_t kSeed = 0x7375706572ULL;
  Bytes bytes = read_bytes(path);
  for (std::size_t copy = 0; copy < journal::kSuperblockCopies; ++copy) {
    std::byte* at = bytes.data() + copy * journal::kSuperblockCopySize;
    Checksum stored = 0;
    std::memcpy(&stored, at + kCovered, 8);
    ASSERT_EQ(stored, checksum(at, kCovered, kSeed))
        << "superblock layout changed: update this test";
    std::memcpy(at + 8, &version, 4);
    const Checksum fixed = checksum(at, kCovered, kSeed);
    std::memcpy(at + kCovered, &fixed, 8);
  }
  write_bytes(path, bytes);
}

TEST(ReplicaStorage, NewerLayoutVersionIsRefusedUntouched) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  set_superblock_version(dir0(tmp) / kSuperblockFile, journal::kLayoutVersion + 1);
  const std::string before = digest_directory(tmp.path());
  const Error e =
      expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::refused);
  EXPECT_TRUE(contains(e.what(), "newer layout version")) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

// --- Damaged files -----------------------------------------------------------------

TEST(ReplicaStorage, TruncatedLogIsAnErrorNeverExtended) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  const auto log = dir0(tmp) / kLogFile;
  const auto half = journal::log_region_size(small_geometry()) / 2;
  ASSERT_EQ(::truncate(log.c_str(), static_cast<off_t>(half)), 0);
  const std::string before = digest_directory(tmp.path());
  const Error e =
      expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::bad_file);
  EXPECT_TRUE(contains(e.what(), log.string())) << e.what();
  EXPECT_TRUE(contains(e.what(), "truncated")) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
  EXPECT_EQ(std::filesystem::file_size(log), half);
}

TEST(ReplicaStorage, TruncatedSuperblockIsAnError) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  const auto sb = dir0(tmp) / kSuperblockFile;
  ASSERT_EQ(::truncate(sb.c_str(), 100), 0);
  const std::string before = digest_directory(tmp.path());
  const Error e =
      expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::bad_file);
  EXPECT_TRUE(contains(e.what(), sb.string())) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

TEST(ReplicaStorage, MissingLogBesideASuperblockIsAnError) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  std::filesystem::remove(dir0(tmp) / kLogFile);
  const std::string before = digest_directory(tmp.path());
  const Error e =
      expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::bad_file);
  EXPECT_TRUE(contains(e.what(), "no log")) << e.what();
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

// --- Bad arguments and environments --------------------------------------------

TEST(ReplicaStorage, BadArgumentsAreRefusedBeforeAnythingIsCreated) {
  TempDir tmp;
  auto with = [&](auto tweak) {
    StorageOptions o = options(tmp.path());
    tweak(o);
    expect_error([&] { ReplicaStorage::open(o, 1); }, ErrorCode::invalid_argument);
    expect_error([&] { format_new_cluster(o.data_dir, o.identity, o.geometry); },
                 ErrorCode::invalid_argument);
  };
  with([](StorageOptions& o) { o.identity.replica = 3; });
  with([](StorageOptions& o) { o.identity.replica_count = 0; });
  with([](StorageOptions& o) { o.identity.replica_count = kMaxReplicas + 1; });
  with([](StorageOptions& o) { o.geometry.slot_count = 8; });
  with([](StorageOptions& o) { o.geometry.ring_bytes = 4100; });
  with([](StorageOptions& o) { o.geometry.ring_bytes = 1024; });
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST(ReplicaStorage, MissingDataDirectoryIsAnError) {
  TempDir tmp;
  const Error e = expect_error([&] { ReplicaStorage::open(options(tmp.path() / "nope"), 1); },
                               ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(e.what(), "does not exist")) << e.what();
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "nope"));
}

// Runs `f` in a child process that cannot write to root-owned directories: as
// root it drops to nobody (root ignores permission bits); otherwise the caller's
// chmod already denies. Returns the child's exit code.
template <typename F>
int run_unprivileged(F&& f) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    }
    ::_exit(f());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int error_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    std::fprintf(stderr, "child got: %s\n", e.what());
    return 10 + static_cast<int>(e.code());
  } catch (...) {
    return 3;
  }
  return 0;
}

TEST(ReplicaStorage, UnwritableDataDirectoryIsAPermissionError) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(0), small_geometry());
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir0(tmp).c_str(), 0500), 0);
  const std::string before = digest_directory(tmp.path());
  const int expected = 10 + static_cast<int>(ErrorCode::permission);
  // A new replica directory cannot be created...
  EXPECT_EQ(run_unprivileged([&] {
              return error_code_of(
                  [&] { ReplicaStorage::open(options(tmp.path(), SyncMode::none, 1), 1); });
            }),
            expected);
  // ...nor an existing one opened for writing, nor a cluster formatted.
  EXPECT_EQ(run_unprivileged([&] {
              return error_code_of([&] { ReplicaStorage::open(options(tmp.path()), 1); });
            }),
            expected);
  EXPECT_EQ(run_unprivileged([&] {
              return error_code_of(
                  [&] { format_new_cluster(tmp.path(), identity(2), small_geometry()); });
            }),
            expected);
  EXPECT_EQ(digest_directory(tmp.path()), before);
}

TEST(ReplicaStorage, LockHeldByAnotherProcessIsRefusedUntilItDies) {
  TempDir tmp;
  format_new_cluster(tmp.path(), identity(), small_geometry());
  int ready[2];
  int hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto storage = ReplicaStorage::open(options(tmp.path()), 1);
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    ::read(hold[0], &c, 1);  // until the parent kills us
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const Error e =
      expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::locked);
  EXPECT_TRUE(contains(e.what(), "pid " + std::to_string(pid))) << e.what();
  EXPECT_TRUE(contains(e.what(), dir0(tmp).string())) << e.what();
  expect_error([&] { format_new_cluster(tmp.path(), identity(), small_geometry()); },
               ErrorCode::locked);
  // The kernel drops the lock when its holder dies, however it dies.
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  auto storage = ReplicaStorage::open(options(tmp.path()), 1);
  EXPECT_EQ(storage->opened(), Opened::restart);
  for (int fd : {ready[0], ready[1], hold[0], hold[1]})
    ::close(fd);
}

TEST(ReplicaStorage, SecondOpenInOneProcessIsRefused) {
  TempDir tmp;
  auto first = ReplicaStorage::open(options(tmp.path()), 1);
  expect_error([&] { ReplicaStorage::open(options(tmp.path()), 1); }, ErrorCode::locked);
}

// --- A full disk ----------------------------------------------------------------

// A 1 MiB tmpfs mounted over a temporary directory, if this process may mount.
class SmallDisk {
 public:
  explicit SmallDisk(const std::filesystem::path& at) : path_(at) {
    std::filesystem::create_directory(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=1m,mode=0700") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string error_;
};

// Fills the file system at `dir` up to the last block.
void fill_disk(const std::filesystem::path& dir) {
  const int fd = ::open((dir / "ballast").c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  const Bytes chunk(4096, std::byte{1});
  while (::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  while (::write(fd, chunk.data(), 1) > 0) {
  }
  ::close(fd);
}

TEST(ReplicaStorage, FullDiskIsAnErrorWhenCreatingNeverASigbusLater) {
  TempDir tmp;
  SmallDisk disk(tmp.path() / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a 1 MiB tmpfs here (" << disk.error() << ")";
  const journal::Geometry big{64, 2 * 1024 * 1024};  // 2 MiB ring on a 1 MiB disk
  const auto data = disk.path() / "data";
  Error e = expect_error([&] { format_new_cluster(data, identity(), big); }, ErrorCode::no_space);
  EXPECT_TRUE(contains(e.what(), "No space left")) << e.what();
  expect_error(
      [&] {
        ReplicaStorage::open(StorageOptions{data, identity(1), big, SyncMode::none}, 1);
      },
      ErrorCode::no_space);
  // Nothing half-made is left behind (no .tmp, no short file).
  for (const auto& f : std::filesystem::recursive_directory_iterator(data)) {
    EXPECT_TRUE(f.is_directory() || f.path().filename() == DirectoryLock::kFileName) << f.path();
  }
  // A geometry that fits works; a wiped replica on the now full disk is an error.
  format_new_cluster(data, identity(0), small_geometry());
  fill_disk(disk.path());
  e = expect_error(
      [&] {
        ReplicaStorage::open(StorageOptions{data, identity(2), small_geometry(), SyncMode::none},
                             1);
      },
      ErrorCode::no_space);
  EXPECT_TRUE(contains(e.what(), "free space")) << e.what();
  auto storage =
      ReplicaStorage::open(StorageOptions{data, identity(0), small_geometry(), SyncMode::none}, 1);
  EXPECT_EQ(storage->opened(), Opened::restart);
}

// A failed sync is never retried: the message says what failed and what to do.
// (The failure itself cannot be injected here without a faulty block device.)
TEST(ReplicaStorageDeathTest, IoErrorsAreFatalWithAClearMessage) {
  EXPECT_DEATH(io_fatal("msync of", "/data/replica-1/log", EIO),
               "vsr: fatal: msync of /data/replica-1/log: Input/output error\n"
               "vsr: not retried: .*Check the disk.*restart the replica");
}

TEST(ReplicaStorageDeathTest, FullDiskDuringACheckpointIsFatalAndKeepsThePreviousOne) {
  TempDir tmp;
  SmallDisk disk(tmp.path() / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a 1 MiB tmpfs here (" << disk.error() << ")";
  const auto data = disk.path() / "data";
  format_new_cluster(data, identity(), small_geometry());
  std::mt19937_64 rng(5);
  {
    auto storage =
        ReplicaStorage::open(StorageOptions{data, identity(), small_geometry(), SyncMode::none}, 1);
    fill(storage->journal(), 10, rng);
  }
  fill_disk(disk.path());
  EXPECT_DEATH(
      {
        auto storage = ReplicaStorage::open(
            StorageOptions{data, identity(), small_geometry(), SyncMode::none}, 1);
        journal::Journal& j = storage->journal();
        j.checkpoint(OpNumber(10), make_state(OpNumber(10), 0, 8000), OpNumber(10));
      },
      "fatal: cannot write checkpoint file .*No space left on device");
  std::filesystem::remove(disk.path() / "ballast");
  auto storage =
      ReplicaStorage::open(StorageOptions{data, identity(), small_geometry(), SyncMode::none}, 1);
  EXPECT_EQ(storage->opened(), Opened::restart);
  EXPECT_EQ(storage->journal().checkpoint_op(), OpNumber(0));
  EXPECT_EQ(storage->journal().log().head(), OpNumber(10));
  EXPECT_FALSE(std::filesystem::exists(replica_dir(data, 0) / "snapshot-10.tmp"));
}

}  // namespace
}  // namespace vsr::storage::test
