// Checkpoint blobs as files `snapshot-<op>` in the replica's directory.
//
// write() is durable and atomic on return: the blob goes to `snapshot-<op>.tmp`,
// which is fsynced, renamed over `snapshot-<op>`, and then the directory is fsynced.
// A crash leaves either the whole new file or none (at worst a `.tmp`, removed when
// the store is next opened). The store only keeps bytes; the journal checks what
// they say (encode_checkpoint_blob carries its own checksum).
//
// The SnapshotStore interface has no error path: the journal counts on a written
// checkpoint. A failed write (a full disk included) is therefore fatal, like a
// failed sync; the superblock still names the previous checkpoint, so the replica
// restarts from it once there is space.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "replica/journal/region.h"

namespace vsr::storage {

class FileSnapshotStore final : public journal::SnapshotStore {
 public:
  // `dir` must exist. Touches nothing (so a refused open leaves the directory as
  // it was); call remove_temporaries() once the storage is known to be ours.
  // `durable` false (sync mode none, which promises survival of killed processes, not
  // of the host): no fsync of the file or the directory. The page cache alone keeps a
  // renamed file whole for every process, so the write-then-rename still makes it
  // all-or-nothing; the fsyncs only cost the event loop a disk flush per checkpoint.
  explicit FileSnapshotStore(std::filesystem::path dir, bool durable = true)
      : dir_(std::move(dir)), durable_(durable) {}

  // Removes the `.tmp` files of writes that a crash interrupted. Throws Error.
  void remove_temporaries();

  void write(OpNumber op, ByteView blob) override;
  std::optional<Bytes> read(OpNumber op) const override;
  void remove_older_than(OpNumber op) override;

  // The ops of the snapshots present, in order.
  std::vector<OpNumber> ops() const;
  static std::string file_name(OpNumber op);
  // The op a file name denotes: exactly "snapshot-" and the canonical decimal.
  static std::optional<OpNumber> parse_file_name(const std::string& name);
  // True for a temporary file of the store ("snapshot-<op>.tmp").
  static bool is_temporary(const std::string& name);

 private:
  std::filesystem::path dir_;
  bool durable_ = true;
};

}  // namespace vsr::storage
