#include "shm/segment.h"

#include <fcntl.h>
#include <time.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
#include <new>
#include <random>
#include <type_traits>

#include "common/assert.h"
#include "shm/process.h"

namespace vsr::shm {
namespace bip = boost::interprocess;

static_assert(std::has_unique_object_representations_v<HeaderInfo>,
              "HeaderInfo is checksummed as raw bytes: no padding allowed");

namespace {

std::string restart_hint(const std::string& cluster) {
  return "`vsr-supervisor start --cluster " + cluster + "`";
}

// Opens an existing segment; nullptr if there is none. Throws on any other failure.
std::unique_ptr<bip::shared_memory_object> open_existing(const std::string& cluster) {
  const std::string name = object_name(cluster);
  try {
    return std::make_unique<bip::shared_memory_object>(bip::open_only, name.c_str(),
                                                       bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) return nullptr;
    if (e.get_error_code() == bip::security_error) {
      throw Error(ErrorCode::os_error, "cannot open segment " + name +
                                           ": permission denied (it belongs to another user; "
                                           "run as that user or pick another --cluster)");
    }
    throw Error(ErrorCode::os_error, "cannot open segment " + name + ": " + e.what());
  }
}

std::size_t object_size(const bip::shared_memory_object& shm) {
  bip::offset_t size = 0;
  if (!shm.get_size(size) || size < 0) {
    throw Error(ErrorCode::os_error, "cannot read the size of segment " +
                                         std::string(shm.get_name()) + ": " + std::strerror(errno));
  }
  return static_cast<std::size_t>(size);
}

std::uint64_t random_cluster_id() {
  std::random_device random;
  std::uint64_t id = 0;
  while (id == 0)
    id = (std::uint64_t{random()} << 32) | random();
  return id;
}

std::uint64_t unix_now_ns() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000 +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// Constructs `count` objects of T at `base + offset`, each `stride` bytes apart.
template <typename T, typename... Args>
void construct(std::byte* base, std::uint64_t offset, std::uint64_t count, std::uint64_t stride,
               const Args&... args) {
  for (std::uint64_t i = 0; i < count; ++i)
    new (base + offset + i * stride) T(args...);
}

// Unlinks a half-created segment if creation fails part way.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::string name) : name_(std::move(name)) {}
  ~RemoveOnFailure() {
    if (!name_.empty()) bip::shared_memory_object::remove(name_.c_str());
  }
  void dismiss() { name_.clear(); }

 private:
  std::string name_;
};

// Pids of the live processes still attached as replicas or clients to a segment whose
// header verifies (nothing can be read from one that does not).
std::vector<std::uint32_t> live_owners(const bip::shared_memory_object& shm, const Header& header) {
  const HeaderInfo& info = header.info;
  if (header.magic.load(std::memory_order_acquire) != kSegmentMagic ||
      header.layout_version != kLayoutVersion || header.header_bytes != sizeof(Header) ||
      info_checksum(info) != header.info_checksum || info.replica_count < 1 ||
      info.replica_count > kMaxReplicas || info.client_slots > kMaxClientSlots ||
      !(info.layout == Layout::compute(info.replica_count, info.client_slots)) ||
      object_size(shm) < info.layout.total_bytes) {
    return {};
  }
  const std::uint64_t owners = std::uint64_t{info.replica_count} + info.client_slots;
  const bip::mapped_region region(shm, bip::read_only, 0,
                                  info.layout.owners_offset + owners * sizeof(OwnerSlot));
  const auto* slots = reinterpret_cast<const OwnerSlot*>(
      static_cast<const std::byte*>(region.get_address()) + info.layout.owners_offset);
  std::vector<std::uint32_t> pids;
  for (std::uint64_t i = 0; i < owners; ++i) {
    const OwnerInfo owner = read_owner(slots[i]);
    if (owner.claimed() && owner_alive(slots[i], owner)) pids.push_back(owner.pid);
  }
  return pids;
}

}  // namespace

Segment::Segment(std::string cluster, std::unique_ptr<bip::mapped_region> region)
    : cluster_(std::move(cluster)), region_(std::move(region)) {
  base_ = static_cast<std::byte*>(region_->get_address());
  header_ = std::launder(reinterpret_cast<Header*>(base_));
  links_ = at<LinkMatrix>(header_->info.layout.links_offset);
}

Segment::Segment(Segment&& other) noexcept
    : cluster_(std::move(other.cluster_)),
      region_(std::move(other.region_)),
      base_(std::exchange(other.base_, nullptr)),
      header_(std::exchange(other.header_, nullptr)),
      links_(std::exchange(other.links_, nullptr)) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    cluster_ = std::move(other.cluster_);
    region_ = std::move(other.region_);
    base_ = std::exchange(other.base_, nullptr);
    header_ = std::exchange(other.header_, nullptr);
    links_ = std::exchange(other.links_, nullptr);
  }
  return *this;
}

Segment::~Segment() = default;

template <typename T>
T* Segment::at(std::uint64_t offset) const {
  VSR_ASSERT(base_ != nullptr);
  return std::launder(reinterpret_cast<T*>(base_ + offset));
}

SegmentProbe Segment::probe(const std::string& cluster) {
  check_cluster_name(cluster);
  const std::string name = object_name(cluster);
  const auto shm = open_existing(cluster);
  if (!shm) return SegmentProbe{SegmentProbe::State::absent, 0, "no segment " + name, {}};
  if (object_size(*shm) < kHeaderRegionBytes) {
    return SegmentProbe{SegmentProbe::State::dead, 0, "segment " + name + " is too small", {}};
  }
  const bip::mapped_region region(*shm, bip::read_only, 0, kHeaderRegionBytes);
  const auto& header = *static_cast<const Header*>(region.get_address());
  const std::uint64_t magic = header.magic.load(std::memory_order_acquire);
  const ProcessIdentity creator{static_cast<std::uint32_t>(header.supervisor_pid),
                                header.supervisor_start_time};
  if (magic != 0 && magic != kSegmentMagic) {
    return SegmentProbe{SegmentProbe::State::dead, 0, name + " is not a vsr segment", {}};
  }
  if (creator.pid != 0 && process_alive(creator)) {
    return SegmentProbe{
        SegmentProbe::State::live,
        creator.pid,
        "segment " + name + " belongs to running supervisor pid " + std::to_string(creator.pid),
        {}};
  }
  SegmentProbe dead{SegmentProbe::State::dead,
                    creator.pid,
                    "segment " + name + " was left by supervisor pid " +
                        std::to_string(creator.pid) + ", which is no longer running",
                    {}};
  dead.attached_pids = live_owners(*shm, header);
  return dead;
}

bool Segment::remove(const std::string& cluster) {
  check_cluster_name(cluster);
  return bip::shared_memory_object::remove(object_name(cluster).c_str());
}

bool Segment::remove_if_stale(const std::string& cluster) {
  return probe(cluster).state == SegmentProbe::State::dead && remove(cluster);
}

Segment Segment::create(const SegmentConfig& config) {
  check_cluster_name(config.cluster);
  if (config.replica_count < 1 || config.replica_count > kMaxReplicas) {
    throw Error(
        ErrorCode::invalid_argument,
        "replica count " + std::to_string(config.replica_count) + " is out of range: use 1 to 7");
  }
  if (config.client_slots > kMaxClientSlots) {
    throw Error(ErrorCode::invalid_argument, "client slot count " +
                                                 std::to_string(config.client_slots) +
                                                 " is out of range: use 0 to 256");
  }
  const std::string name = object_name(config.cluster);
  const SegmentProbe found = probe(config.cluster);
  if (found.state == SegmentProbe::State::live) {
    throw Error(ErrorCode::already_running,
                "cluster '" + config.cluster + "' is already running (supervisor pid " +
                    std::to_string(found.supervisor_pid) +
                    "): stop it with `vsr-supervisor stop "
                    "--cluster " +
                    config.cluster + "` first, or pick another --cluster");
  }
  if (found.state == SegmentProbe::State::dead) remove(config.cluster);

  const Layout layout = Layout::compute(config.replica_count, config.client_slots);
  std::unique_ptr<bip::shared_memory_object> shm;
  try {
    bip::permissions owner_only;
    owner_only.set_permissions(0600);
    shm = std::make_unique<bip::shared_memory_object>(bip::create_only, name.c_str(),
                                                      bip::read_write, owner_only);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::already_exists_error) {
      throw Error(ErrorCode::already_running,
                  "segment " + name +
                      " appeared while this supervisor was creating it: another "
                      "supervisor for cluster '" +
                      config.cluster + "' is starting");
    }
    throw Error(ErrorCode::os_error, "cannot create segment " + name + ": " + e.what());
  }
  RemoveOnFailure cleanup(name);
  try {
    shm->truncate(static_cast<bip::offset_t>(layout.total_bytes));
  } catch (const bip::interprocess_exception& e) {
    throw Error(ErrorCode::os_error, "cannot size segment " + name + ": " + e.what());
  }
  // tmpfs hands out pages lazily; a page it cannot provide later would SIGBUS whoever
  // touches it first. Reserving every page now turns that into a clear error here.
  const int fd = shm->get_mapping_handle().handle;
  if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(layout.total_bytes)); rc != 0) {
    const std::string mib = std::to_string(layout.total_bytes >> 20);
    if (rc == ENOSPC) {
      throw Error(ErrorCode::no_space, "/dev/shm has no room for segment " + name + " (" + mib +
                                           " MiB): free memory or use fewer --client-slots");
    }
    throw Error(ErrorCode::os_error,
                "cannot reserve " + mib + " MiB for segment " + name + ": " + std::strerror(rc));
  }
  auto region = std::make_unique<bip::mapped_region>(*shm, bip::read_write);
  VSR_ASSERT(region->get_size() == layout.total_bytes);
  auto* base = static_cast<std::byte*>(region->get_address());

  // Identity first: from here on a prober can tell whether the creator still runs.
  auto* header = new (base) Header();
  const ProcessIdentity self = self_identity();
  header->supervisor_pid = self.pid;
  header->supervisor_start_time = self.start_time;
  header->layout_version = kLayoutVersion;
  header->header_bytes = sizeof(Header);

  const std::uint32_t n = config.replica_count;
  const std::uint32_t s = config.client_slots;
  construct<StatusBoard>(base, layout.status_offset, n, sizeof(StatusBoard));
  construct<SupervisorHint>(base, layout.hints_offset, n, sizeof(SupervisorHint));
  construct<LinkMatrix>(base, layout.links_offset, 1, sizeof(LinkMatrix), n);
  construct<ActiveSlots>(base, layout.active_slots_offset, 1, sizeof(ActiveSlots));
  construct<Doorbell>(base, layout.doorbells_offset, n + s, sizeof(Doorbell));
  construct<OwnerSlot>(base, layout.owners_offset, n + s, sizeof(OwnerSlot));
  construct<ReplicaRing>(base, layout.replica_rings_offset, std::uint64_t{n} * (n - 1),
                         layout.replica_ring_stride);
  construct<ClientRing>(base, layout.client_rings_offset, std::uint64_t{2} * s * n,
                        layout.client_ring_stride);

  HeaderInfo& info = header->info;
  info.segment_bytes = layout.total_bytes;
  info.cluster_id = config.cluster_id != 0 ? config.cluster_id : random_cluster_id();
  info.generation = config.generation;
  info.replica_count = n;
  info.client_slots = s;
  info.replica_ring_bytes = kReplicaRingBytes;
  info.client_ring_bytes = kClientRingBytes;
  info.max_frame_bytes = kMaxFrameBytes;
  info.max_message_bytes = kMaxMessageBytes;
  info.created_unix_ns = unix_now_ns();
  info.layout = layout;
  std::memcpy(info.cluster, config.cluster.data(), config.cluster.size());
  header->info_checksum = info_checksum(info);
  header->magic.store(kSegmentMagic, std::memory_order_release);  // published: complete

  cleanup.dismiss();
  Segment segment(config.cluster, std::move(region));
  VSR_ASSERT(!check_header(segment.header(), layout.total_bytes, config.cluster, {}));
  return segment;
}

Segment Segment::attach(const std::string& cluster, const AttachOptions& options) {
  check_cluster_name(cluster);
  const std::string name = object_name(cluster);
  const auto shm = open_existing(cluster);
  if (!shm) {
    throw Error(ErrorCode::not_found, "no cluster '" + cluster + "' is running (no segment " +
                                          name + "): start one with " + restart_hint(cluster));
  }
  const std::size_t size = object_size(*shm);
  if (size < kHeaderRegionBytes) {
    throw *check_header(Header{}, size, cluster, options);
  }
  auto region = std::make_unique<bip::mapped_region>(*shm, bip::read_write);
  const auto& header = *static_cast<const Header*>(region->get_address());
  if (auto error = check_header(header, region->get_size(), cluster, options)) throw *error;
  return Segment(cluster, std::move(region));
}

StatusBoard& Segment::status(std::uint32_t replica) {
  VSR_ASSERT(replica < replica_count());
  return at<StatusBoard>(header_->info.layout.status_offset)[replica];
}

const StatusBoard& Segment::status(std::uint32_t replica) const {
  VSR_ASSERT(replica < replica_count());
  return at<const StatusBoard>(header_->info.layout.status_offset)[replica];
}

void Segment::signal_replica_down(std::uint32_t replica) {
  VSR_ASSERT(replica < replica_count());
  at<SupervisorHint>(header_->info.layout.hints_offset)[replica].down_count.fetch_add(
      1, std::memory_order_seq_cst);
  ring_all_replicas();
}

std::uint64_t Segment::replica_down_count(std::uint32_t replica) const {
  VSR_ASSERT(replica < replica_count());
  return at<const SupervisorHint>(header_->info.layout.hints_offset)[replica].down_count.load(
      std::memory_order_acquire);
}

void Segment::ring_all_replicas() {
  for (std::uint32_t r = 0; r < replica_count(); ++r)
    replica_doorbell(r).ring();
}

std::vector<ClientSlotInfo> Segment::list_client_slots() const {
  std::vector<ClientSlotInfo> slots;
  slots.reserve(client_slots());
  for (std::uint32_t s = 0; s < client_slots(); ++s) {
    const OwnerSlot& owner = client_owner(s);
    const OwnerInfo info = read_owner(owner);
    slots.push_back(
        ClientSlotInfo{s, info.pid, info.generation, info.claimed() && owner_alive(owner, info)});
  }
  return slots;
}

OwnerInfo Segment::replica_owner_info(std::uint32_t replica) const {
  VSR_ASSERT(replica < replica_count());
  return read_owner(at<const OwnerSlot>(header_->info.layout.owners_offset)[replica]);
}

Doorbell& Segment::replica_doorbell(std::uint32_t replica) {
  VSR_ASSERT(replica < replica_count());
  return at<Doorbell>(header_->info.layout.doorbells_offset)[replica];
}

Doorbell& Segment::client_doorbell(std::uint32_t slot) {
  VSR_ASSERT(slot < client_slots());
  return at<Doorbell>(header_->info.layout.doorbells_offset)[replica_count() + slot];
}

OwnerSlot& Segment::replica_owner(std::uint32_t replica) {
  VSR_ASSERT(replica < replica_count());
  return at<OwnerSlot>(header_->info.layout.owners_offset)[replica];
}

ActiveSlots& Segment::active_slots() {
  return *at<ActiveSlots>(header_->info.layout.active_slots_offset);
}

OwnerSlot& Segment::client_owner(std::uint32_t slot) {
  VSR_ASSERT(slot < client_slots());
  return at<OwnerSlot>(header_->info.layout.owners_offset)[replica_count() + slot];
}

const OwnerSlot& Segment::client_owner(std::uint32_t slot) const {
  VSR_ASSERT(slot < client_slots());
  return at<const OwnerSlot>(header_->info.layout.owners_offset)[replica_count() + slot];
}

ReplicaRing& Segment::replica_ring(std::uint32_t from, std::uint32_t to) {
  const std::uint32_t n = replica_count();
  VSR_ASSERT(from < n && to < n && from != to);
  const std::uint64_t index = std::uint64_t{from} * (n - 1) + (to < from ? to : to - 1);
  const Layout& l = header_->info.layout;
  return *at<ReplicaRing>(l.replica_rings_offset + index * l.replica_ring_stride);
}

ClientRing& Segment::client_to_replica_ring(std::uint32_t slot, std::uint32_t replica) {
  VSR_ASSERT(slot < client_slots() && replica < replica_count());
  const std::uint64_t index = (std::uint64_t{slot} * replica_count() + replica) * 2;
  const Layout& l = header_->info.layout;
  return *at<ClientRing>(l.client_rings_offset + index * l.client_ring_stride);
}

ClientRing& Segment::replica_to_client_ring(std::uint32_t replica, std::uint32_t slot) {
  VSR_ASSERT(slot < client_slots() && replica < replica_count());
  const std::uint64_t index = (std::uint64_t{slot} * replica_count() + replica) * 2 + 1;
  const Layout& l = header_->info.layout;
  return *at<ClientRing>(l.client_rings_offset + index * l.client_ring_stride);
}

}  // namespace vsr::shm
