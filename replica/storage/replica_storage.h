// A replica's durable state on disk: its directory, files, lock and journal.
//
//   <data>/replica-<i>/superblock      journal::kSuperblockRegionSize bytes
//   <data>/replica-<i>/log             journal::log_region_size(geometry) bytes
//   <data>/replica-<i>/snapshot-<op>   checkpoint blobs
//   <data>/replica-<i>/lock            flock held while a process uses the directory
//   <data>/replica-<i>/replica.log     the process's text log (not written here)
//
// Directories are created 0700 and files 0600. The replica process calls
// ReplicaStorage::open() once at start; it yields the Journal to hand to the core
// and the Boot decision, made exactly as the simulator makes it:
//   - the journal opens ok: restart from its checkpoint and log;
//   - no state (a new or wiped directory), or state that is not trustworthy (blank
//     or corrupt superblock, a half-installed state, a lost checkpoint): the files
//     are recreated, formatted untrustworthy, and the replica recovers from peers;
//   - data of another cluster, replica, geometry or a newer layout: Error, and
//     nothing is touched.
// The supervisor formats a fresh cluster with format_new_cluster().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "replica/core/replica.h"
#include "replica/journal/journal.h"
#include "replica/storage/directory_lock.h"
#include "replica/storage/error.h"
#include "replica/storage/file_snapshot_store.h"
#include "replica/storage/mmap_region.h"
#include "replica/storage/sync_mode.h"

namespace vsr::storage {

inline constexpr const char* kSuperblockFile = "superblock";
inline constexpr const char* kLogFile = "log";

// <data>/replica-<i>
std::filesystem::path replica_dir(const std::filesystem::path& data_dir, ReplicaId replica);

struct StorageOptions {
  std::filesystem::path data_dir;  // the cluster's directory; must exist
  journal::Identity identity;
  journal::Geometry geometry;
  SyncMode sync_mode = SyncMode::batch;
#ifdef VSR_TEST_BUGS
  // Test builds only: journal writes stay in process memory until sync(), so a
  // replica that sends before it syncs (the bug switch skip-sync-before-send) loses
  // what it acknowledged when it is killed. Never reachable in a release build.
  bool write_behind = false;
#endif
};

// Creates <data> (if missing) and <data>/replica-<i> with a journal formatted for a
// new cluster (trustworthy, view 0, empty log), durably. Throws Error, and touches
// nothing, if the replica's directory already holds a superblock or a log.
void format_new_cluster(const std::filesystem::path& data_dir, const journal::Identity& identity,
                        const journal::Geometry& geometry);

class ReplicaStorage {
 public:
  enum class Opened {
    restart,                // the journal opened ok
    recover_new,            // no superblock (new or wiped directory): files created
    recover_untrustworthy,  // state that cannot be voted with: files recreated
  };

  // Locks and opens the replica's directory (creating it if missing). The nonce
  // goes into Boot when the replica must recover: fresh for every run. Throws Error.
  static std::unique_ptr<ReplicaStorage> open(const StorageOptions& options,
                                              std::uint64_t recovery_nonce);

  ReplicaStorage(const ReplicaStorage&) = delete;
  ReplicaStorage& operator=(const ReplicaStorage&) = delete;
  ~ReplicaStorage();

  journal::Journal& journal() { return *journal_; }
  // How to start the core: Replica(config, journal(), state_machine, boot()).
  const Boot& boot() const { return boot_; }
  Opened opened() const { return opened_; }
  // Why the replica recovers (empty on a plain restart), for its log.
  const std::string& detail() const { return detail_; }
  // Nonzero if the restart cut entries from here on as a torn tail.
  OpNumber torn_from() const { return torn_from_; }

  // Sync mode batch: makes every write so far durable (the log, then the
  // superblock). The driver calls it once per batch, before it sends anything the
  // batch produced. Sync mode none: does nothing. A failed sync aborts.
  void sync() { journal_->sync(); }
  // Sync mode batch: a function that makes the log's writes so far durable (one
  // fdatasync of the log file), safe to run on another thread while this one writes
  // (BackgroundSync). Empty in sync mode none, and in test builds whose journal writes
  // wait in process memory until sync() (write-behind): those must sync in order.
  std::function<void()> log_sync_for_background();
  // True if the superblock (view, last_normal_view, commit, checkpoint) changed since
  // the last sync: only log entries wait for the next sync otherwise.
  bool superblock_pending() const {
    const auto [begin, end] = superblock_->dirty_range();
    return begin != end;
  }

  SyncMode sync_mode() const { return options_.sync_mode; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  ReplicaStorage(const StorageOptions& options, std::filesystem::path dir);
  void open_existing(std::uint64_t recovery_nonce);
  void recreate(std::uint64_t recovery_nonce);
  void close_files();

  StorageOptions options_;
  std::filesystem::path dir_;
  DirectoryLock lock_;
  std::unique_ptr<MmapRegion> superblock_;
  std::unique_ptr<MmapRegion> log_;
  std::unique_ptr<FileSnapshotStore> snapshots_;
  std::unique_ptr<journal::Journal> journal_;
  Boot boot_;
  Opened opened_ = Opened::restart;
  std::string detail_;
  OpNumber torn_from_;
};

}  // namespace vsr::storage
