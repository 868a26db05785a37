// FileSnapshotStore: atomic durable writes, reads, removal of old snapshots and of
// the temporary files a crash leaves.
#include "replica/storage/file_snapshot_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/storage/storage_test_util.h"

namespace vsr::storage::test {
namespace {

Bytes blob(const std::string& s) {
  const ByteView b = as_bytes(s);
  return Bytes(b.begin(), b.end());
}

TEST(FileSnapshotStore, WriteThenReadBackWithMode0600AndNoTemporary) {
  TempDir tmp;
  FileSnapshotStore store(tmp.path());
  store.write(OpNumber(42), blob("state at 42"));
  EXPECT_EQ(store.read(OpNumber(42)), blob("state at 42"));
  EXPECT_EQ(store.read(OpNumber(41)), std::nullopt);
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() / "snapshot-42").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "snapshot-42.tmp"));
}

TEST(FileSnapshotStore, RewritingAnOpReplacesTheWholeBlob) {
  TempDir tmp;
  FileSnapshotStore store(tmp.path());
  store.write(OpNumber(7), blob("a much longer first version of the state"));
  store.write(OpNumber(7), blob("short"));
  EXPECT_EQ(store.read(OpNumber(7)), blob("short"));
}

// A child rewrites a snapshot with a large blob and is SIGKILLed at a random
// moment: the store then holds the old blob or the new one, whole, never a part.
TEST(FileSnapshotStore, WriteIsAtomicUnderSigkill) {
  TempDir tmp;
  const Bytes old_blob(1 << 20, std::byte{0x0a});
  const Bytes new_blob(16 << 20, std::byte{0x0b});
  std::mt19937_64 rng(std::random_device{}());
  int saw_old = 0;
  int saw_new = 0;
  for (int round = 0; round < 40; ++round) {
    FileSnapshotStore(tmp.path()).write(OpNumber(9), old_blob);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FileSnapshotStore(tmp.path()).write(OpNumber(9), new_blob);
      ::pause();  // written: wait for the kill
      ::_exit(0);
    }
    const timespec delay{0, static_cast<long>(rng() % 40'000'000)};  // up to 40 ms
    ::nanosleep(&delay, nullptr);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    FileSnapshotStore store(tmp.path());
    store.remove_temporaries();
    const auto got = store.read(OpNumber(9));
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(*got == old_blob || *got == new_blob)
        << "a torn snapshot of " << got->size() << " bytes";
    ++(*got == old_blob ? saw_old : saw_new);
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "snapshot-9.tmp"));
  }
  std::printf("  old blob %d times, new blob %d times\n", saw_old, saw_new);
}

TEST(FileSnapshotStore, EmptyBlobIsStored) {
  TempDir tmp;
  FileSnapshotStore store(tmp.path());
  store.write(OpNumber(1), {});
  EXPECT_EQ(store.read(OpNumber(1)), Bytes{});
}

TEST(FileSnapshotStore, RemoveOlderThanKeepsThatOpAndNewerAndOtherFiles) {
  TempDir tmp;
  FileSnapshotStore store(tmp.path());
  for (std::uint64_t op : {3, 10, 11, 200})
    store.write(OpNumber(op), blob("s"));
  write_bytes(tmp.path() / "replica.log", blob("log"));
  write_bytes(tmp.path() / "snapshot-007", blob("not ours: not canonical"));
  store.remove_older_than(OpNumber(11));
  EXPECT_EQ(store.ops(), (std::vector<OpNumber>{OpNumber(11), OpNumber(200)}));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "replica.log"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "snapshot-007"));
}

TEST(FileSnapshotStore, RemoveTemporariesRemovesOnlyInterruptedWrites) {
  TempDir tmp;
  write_bytes(tmp.path() / "snapshot-5.tmp", blob("half a blob"));
  write_bytes(tmp.path() / "snapshot-6", blob("whole"));
  write_bytes(tmp.path() / "notes.tmp", blob("not ours"));
  FileSnapshotStore store(tmp.path());
  EXPECT_TRUE(
      std::filesystem::exists(tmp.path() / "snapshot-5.tmp"));  // constructing touches nothing
  store.remove_temporaries();
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "snapshot-5.tmp"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "notes.tmp"));
  EXPECT_EQ(store.read(OpNumber(6)), blob("whole"));
}

TEST(FileSnapshotStore, FileNamesAreCanonicalDecimal) {
  EXPECT_EQ(FileSnapshotStore::file_name(OpNumber(123)), "snapshot-123");
  EXPECT_EQ(FileSnapshotStore::parse_file_name("snapshot-123"), OpNumber(123));
  EXPECT_EQ(FileSnapshotStore::parse_file_name("snapshot-0"), OpNumber(0));
  for (const char* bad :
       {"snapshot-", "snapshot-01", "snapshot-+1", "snapshot-1.tmp", "snapshot-1x", "snapshot--1",
        "snapshot-99999999999999999999", "xsnapshot-1"}) {
    EXPECT_EQ(FileSnapshotStore::parse_file_name(bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(FileSnapshotStore::is_temporary("snapshot-9.tmp"));
  EXPECT_FALSE(FileSnapshotStore::is_temporary("snapshot-09.tmp"));
  EXPECT_FALSE(FileSnapshotStore::is_temporary("superblock.tmp"));
}

}  // namespace
}  // namespace vsr::storage::test
