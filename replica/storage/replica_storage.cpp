#include "replica/storage/replica_storage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/assert.h"
#include "replica/storage/file.h"

namespace vsr::storage {

namespace {

std::string describe(const journal::Identity& id) {
  return "cluster " + std::to_string(id.cluster) + ", replica " + std::to_string(id.replica) +
         " of " + std::to_string(id.replica_count);
}

std::string describe(std::uint64_t slot_count, std::uint64_t ring_bytes) {
  return std::to_string(slot_count) + " slots and a " + std::to_string(ring_bytes) + "-byte ring";
}

void validate(const journal::Identity& id, const journal::Geometry& g) {
  if (id.replica_count == 0 || id.replica_count > kMaxReplicas) {
    throw Error(ErrorCode::invalid_argument, "replica count " + std::to_string(id.replica_count) +
                                                 " is not in 1.." + std::to_string(kMaxReplicas));
  }
  if (id.replica >= id.replica_count) {
    throw Error(ErrorCode::invalid_argument, "replica id " + std::to_string(id.replica) +
                                                 " is not below the replica count " +
                                                 std::to_string(id.replica_count));
  }
  // The log ring's own limits (log_ring.cpp asserts them; here they are input).
  if (g.slot_count < 16 || g.slot_count > (std::uint64_t{1} << 26)) {
    throw Error(ErrorCode::invalid_argument,
                "log slot count " + std::to_string(g.slot_count) + " is not in 16..2^26");
  }
  if (g.ring_bytes < 4096 || g.ring_bytes % 8 != 0 || g.ring_bytes / 8 > UINT32_MAX) {
    throw Error(ErrorCode::invalid_argument,
                "log ring size " + std::to_string(g.ring_bytes) +
                    " must be a multiple of 8 from 4096 bytes to 32 GiB");
  }
}

bool file_exists(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  throw os_error("cannot stat", path, errno);
}

// mkdir 0700; true if it was created. An existing directory is fine.
bool make_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return true;
  if (errno != EEXIST) throw os_error("cannot create directory", dir, errno);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw os_error("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::bad_file, dir.string() + " exists but is not a directory");
  }
  return false;
}

void make_replica_directory(const std::filesystem::path& dir) {
  // A new directory's own entry must be durable too, or a power loss could drop
  // the whole directory with the files that were synced into it.
  if (make_directory(dir)) sync_directory(dir.parent_path());
}

void remove_if_present(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw os_error("cannot remove", path, errno);
  }
}

// Removes the replica's state files (never the lock or replica.log): the superblock
// first and durably, because without it nothing left behind is state; a crash in
// the middle then finds "no superblock" and starts over.
void remove_state(const std::filesystem::path& dir) {
  remove_if_present(dir / kSuperblockFile);
  sync_directory(dir);
  remove_if_present(dir / kLogFile);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (FileSnapshotStore::parse_file_name(name) || FileSnapshotStore::is_temporary(name) ||
        name == std::string(kSuperblockFile) + ".tmp" || name == std::string(kLogFile) + ".tmp") {
      remove_if_present(it->path());
    }
  }
  if (ec) throw os_error("cannot list directory", dir, ec.value());
}

// The files of an empty journal: the log first and the superblock last, so the
// superblock's presence means both are complete.
struct Files {
  std::unique_ptr<MmapRegion> superblock;
  std::unique_ptr<MmapRegion> log;
};
// In sync mode batch the superblock reaches its file only at sync(), after the
// log (mmap_region.h says why).
MmapRegion::Writes superblock_writes(SyncMode mode, bool write_behind) {
  return mode == SyncMode::batch || write_behind ? MmapRegion::Writes::at_sync
                                                 : MmapRegion::Writes::immediate;
}

MmapRegion::Writes log_writes(bool write_behind) {
  return write_behind ? MmapRegion::Writes::at_sync : MmapRegion::Writes::immediate;
}

bool write_behind(const StorageOptions& options) {
#ifdef VSR_TEST_BUGS
  return options.write_behind;
#else
  (void)options;
  return false;
#endif
}

Files create_files(const std::filesystem::path& dir, const journal::Geometry& geometry,
                   SyncMode mode, bool behind = false) {
  Files files;
  files.log = MmapRegion::create(dir / kLogFile, journal::log_region_size(geometry), mode,
                                 log_writes(behind));
  files.superblock = MmapRegion::create(dir / kSuperblockFile, journal::kSuperblockRegionSize, mode,
                                        superblock_writes(mode, behind));
  return files;
}

}  // namespace

std::filesystem::path replica_dir(const std::filesystem::path& data_dir, ReplicaId replica) {
  return data_dir / ("replica-" + std::to_string(replica));
}

void format_new_cluster(const std::filesystem::path& data_dir, const journal::Identity& identity,
                        const journal::Geometry& geometry) {
  validate(identity, geometry);
  make_directory(data_dir);
  const std::filesystem::path dir = replica_dir(data_dir, identity.replica);
  make_replica_directory(dir);
  const DirectoryLock lock(dir);
  for (const char* name : {kSuperblockFile, kLogFile}) {
    if (file_exists(dir / name)) {
      throw Error(ErrorCode::already_formatted,
                  dir.string() + " already holds a replica's data (" + name +
                      "); nothing was changed. To start a new cluster there, remove the data "
                      "directory first.");
    }
  }
  remove_state(dir);  // leftovers of a format that died halfway
  // Synced whatever the service's mode will be: a new cluster starts from this.
  Files files = create_files(dir, geometry, SyncMode::batch, false);
  FileSnapshotStore snapshots(dir);
  journal::Journal journal(*files.superblock, *files.log, snapshots, identity, geometry);
  journal.format(/*trustworthy=*/true);
  journal.sync();
}

ReplicaStorage::ReplicaStorage(const StorageOptions& options, std::filesystem::path dir)
    : options_(options), dir_(std::move(dir)), lock_(dir_) {}

ReplicaStorage::~ReplicaStorage() {
  close_files();
}

std::unique_ptr<ReplicaStorage> ReplicaStorage::open(const StorageOptions& options,
                                                     std::uint64_t recovery_nonce) {
  validate(options.identity, options.geometry);
  struct stat st {};
  if (::stat(options.data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::invalid_argument,
                "data directory " + options.data_dir.string() +
                    " does not exist (or is not a directory): format the cluster first, or "
                    "check the path");
  }
  const std::filesystem::path dir = replica_dir(options.data_dir, options.identity.replica);
  make_replica_directory(dir);
  std::unique_ptr<ReplicaStorage> storage(new ReplicaStorage(options, dir));
  if (file_exists(dir / kSuperblockFile)) {
    storage->open_existing(recovery_nonce);
  } else {
    storage->detail_ = "no superblock: a new or wiped replica";
    storage->recreate(recovery_nonce);
    storage->opened_ = Opened::recover_new;
  }
  return storage;
}

void ReplicaStorage::open_existing(std::uint64_t recovery_nonce) {
  const journal::Identity& identity = options_.identity;
  const journal::Geometry& geometry = options_.geometry;
  superblock_ = MmapRegion::open(dir_ / kSuperblockFile, journal::kSuperblockRegionSize,
                                 options_.sync_mode,
                                 superblock_writes(options_.sync_mode, write_behind(options_)));
  // Whose data this is decides before anything else (the log's size included):
  // another cluster's or replica's files are refused and never touched.
  const journal::SuperblockRead read = journal::read_superblock(*superblock_, identity);
  const std::string untouched = " Nothing was changed.";
  if (read.error == journal::SuperblockError::wrong_identity) {
    throw Error(ErrorCode::refused, dir_.string() + " holds the data of " +
                                        describe(read.superblock->identity) + ", not of " +
                                        describe(identity) + "." + untouched +
                                        " Check the data directory, cluster and replica id.");
  }
  if (read.error == journal::SuperblockError::newer_version) {
    throw Error(ErrorCode::refused, dir_.string() + ": " + journal::describe(read.error) + "." +
                                        untouched + " Run the newer version of vsr-shm on it.");
  }
  if (read.superblock && (read.superblock->slot_count != geometry.slot_count ||
                          read.superblock->ring_bytes != geometry.ring_bytes)) {
    throw Error(ErrorCode::refused,
                dir_.string() + " was made with a log of " +
                    describe(read.superblock->slot_count, read.superblock->ring_bytes) + ", not " +
                    describe(geometry.slot_count, geometry.ring_bytes) + "." + untouched +
                    " Start the replica with the geometry it was made with.");
  }
  if (!file_exists(dir_ / kLogFile)) {
    // Never the result of our own create or wipe (the log is created first and
    // removed last): someone removed it. Refuse rather than destroy what is left.
    throw Error(ErrorCode::bad_file,
                dir_.string() + " has a superblock but no log: the directory is damaged." +
                    untouched +
                    " Restore the log, or move the directory away to have the replica "
                    "recover its state from its peers.");
  }
  log_ = MmapRegion::open(dir_ / kLogFile, journal::log_region_size(geometry), options_.sync_mode,
                         log_writes(write_behind(options_)));
  snapshots_ = std::make_unique<FileSnapshotStore>(dir_, options_.sync_mode == SyncMode::batch);
  journal_ =
      std::make_unique<journal::Journal>(*superblock_, *log_, *snapshots_, identity, geometry);
  journal::Journal::OpenResult opened = journal_->open();
  switch (opened.status) {
    case journal::Journal::OpenStatus::ok:
      opened_ = Opened::restart;
      boot_.kind = Boot::Kind::restart;
      boot_.checkpoint_state = std::move(opened.checkpoint_state);
      torn_from_ = opened.torn_from;
      snapshots_->remove_temporaries();
      return;
    case journal::Journal::OpenStatus::unformatted:
    case journal::Journal::OpenStatus::untrustworthy:
      // No state it may vote with: start over empty and recover from the peers.
      detail_ = opened.detail;
      recreate(recovery_nonce);
      opened_ = Opened::recover_untrustworthy;
      return;
    case journal::Journal::OpenStatus::refused:
      throw Error(ErrorCode::refused, dir_.string() + ": " + opened.detail + "." + untouched);
  }
  VSR_ASSERT_MSG(false, "unknown journal open status");
}

void ReplicaStorage::recreate(std::uint64_t recovery_nonce) {
  close_files();
  remove_state(dir_);
  Files files = create_files(dir_, options_.geometry, options_.sync_mode, write_behind(options_));
  superblock_ = std::move(files.superblock);
  log_ = std::move(files.log);
  snapshots_ = std::make_unique<FileSnapshotStore>(dir_, options_.sync_mode == SyncMode::batch);
  journal_ = std::make_unique<journal::Journal>(*superblock_, *log_, *snapshots_, options_.identity,
                                                options_.geometry);
  journal_->format(/*trustworthy=*/false);
  journal_->sync();
  boot_ = Boot{};
  boot_.kind = Boot::Kind::recover;
  boot_.nonce = recovery_nonce;
}

void ReplicaStorage::close_files() {
  journal_.reset();
  snapshots_.reset();
  log_.reset();
  superblock_.reset();
}

std::function<void()> ReplicaStorage::log_sync_for_background() {
  if (options_.sync_mode != SyncMode::batch || write_behind(options_)) return {};
  const MmapRegion* log = log_.get();
  return [log] { log->sync_file_data(); };
}

}  // namespace vsr::storage
