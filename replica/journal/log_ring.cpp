#include "replica/journal/log_ring.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/assert.h"

namespace vsr::journal {

namespace {

constexpr std::uint64_t kLogMagic = 0x676f6c72707376ULL;  // "vsprlog"
constexpr std::uint64_t kSlotSeed = 0x736c6f74ULL;
constexpr std::uint64_t kFileSeed = 0x66696c65ULL;

std::optional<EntryHeader> decode_header(ByteView bytes) {
  Reader r(bytes.first(EntryHeader::kEncodedSize));
  EntryHeader h = EntryHeader::decode(r);
  if (!r.ok() || !h.header_valid()) return std::nullopt;
  return h;
}

Bytes encode_file_header(const Identity& id, const Geometry& g) {
  Bytes out;
  Writer w(out);
  w.put(kLogMagic);
  w.put(kLayoutVersion);
  w.put(id.cluster);
  w.put(id.replica);
  w.put(id.replica_count);
  w.put(g.slot_count);
  w.put(g.ring_bytes);
  w.put(checksum(out, kFileSeed));
  return out;
}

std::uint64_t align8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

}  // namespace

std::size_t ring_start(const Geometry& g) {
  return align8(kLogHeaderSize + g.slot_count * kSlotSize + 4095) / 4096 * 4096;
}

std::size_t log_region_size(const Geometry& g) { return ring_start(g) + g.ring_bytes; }

LogRing::LogRing(Region& region, Geometry geometry)
    : region_(region), geometry_(geometry), held_(geometry.slot_count) {
  VSR_ASSERT(geometry_.slot_count >= 16);
  VSR_ASSERT(geometry_.ring_bytes % 8 == 0 && geometry_.ring_bytes >= 4096);
  VSR_ASSERT(geometry_.ring_bytes / 8 <= UINT32_MAX);
  VSR_ASSERT(region_.size() >= log_region_size(geometry_));
}

std::uint64_t LogRing::entry_size(std::uint32_t body_size) {
  return align8(EntryHeader::kEncodedSize + body_size);
}

void LogRing::format(const Identity& identity) {
  region_.write(0, encode_file_header(identity, geometry_));
  first_ = OpNumber(1);
  head_ = OpNumber(0);
  write_offset_ = 0;
  faulty_.clear();
}

LogRing::OpenResult LogRing::open(const Identity& identity, const Anchor& anchor) {
  OpenResult result;
  {
    Reader r(region_.bytes().first(kLogHeaderSize));
    const auto magic = r.get<std::uint64_t>();
    const auto version = r.get<std::uint32_t>();
    Identity id;
    id.cluster = r.get<std::uint64_t>();
    id.replica = r.get<ReplicaId>();
    id.replica_count = r.get<std::uint8_t>();
    Geometry g;
    g.slot_count = r.get<std::uint64_t>();
    g.ring_bytes = r.get<std::uint64_t>();
    const std::size_t covered = kLogHeaderSize - r.remaining();
    const auto stored = r.get<Checksum>();
    if (magic != kLogMagic || stored != checksum(region_.bytes().first(covered), kFileSeed)) {
      result.status = OpenStatus::bad_header;
      result.detail = "the log file header is missing or corrupt";
      return result;
    }
    if (version > kLayoutVersion) {
      result.status = OpenStatus::newer_version;
      result.detail = "the log was written by a newer layout version";
      return result;
    }
    if (id != identity) {
      result.status = OpenStatus::wrong_identity;
      result.detail = "the log belongs to another cluster or replica";
      return result;
    }
    if (g != geometry_) {
      result.status = OpenStatus::bad_header;
      result.detail = "the log was made with another geometry (slots or ring size)";
      return result;
    }
  }

  anchor_ = anchor;
  faulty_.clear();
  OpNumber op = anchor.op.next();
  Checksum parent = anchor.checksum;
  std::uint64_t predicted = anchor.offset;
  while (op.value() - anchor.op.value() <= geometry_.slot_count) {
    if (auto slot = read_slot(op); slot && slot->header.parent == parent) {
      held_[index(op)] = *slot;
      const EntryHeader& h = slot->header;
      const ByteView body = ring_body(slot->offset, h.body_size);
      if (h.body_valid(body)) {
        if (read_ring_header(slot->offset) != h) {
          region_.write(ring_start(geometry_) + slot->offset, h.encoded());
        }
      } else {
        faulty_[op] = h;  // written whole once (its slot is valid): repair, never cut
      }
      parent = h.checksum;
      predicted = slot->offset + entry_size(h.body_size);
      op = op.next();
      continue;
    }
    // No usable slot: the in-ring copy is found where the entry must have gone.
    std::optional<Slot> found;
    for (std::uint64_t at : {predicted, std::uint64_t{0}}) {
      auto h = read_ring_header(at);
      if (h && h->op == op && h->parent == parent &&
          at + entry_size(h->body_size) <= geometry_.ring_bytes &&
          h->body_valid(ring_body(at, h->body_size))) {
        found = Slot{*h, at};
        break;
      }
    }
    if (!found) break;
    write_slot(found->header, found->offset);
    parent = found->header.checksum;
    predicted = found->offset + entry_size(found->header.body_size);
    op = op.next();
  }
  head_ = op.prev();
  head_checksum_ = parent;
  first_ = anchor.op.next();
  write_offset_ = predicted;

  // A valid slot for an op beyond the head means the log went on past a lost entry
  // (both its copies unreadable): a hole that no torn append can explain.
  if (!valid_slots_past_hole().empty()) {
    result.status = OpenStatus::hole;
    result.detail =
        "entry " + std::to_string(head_.value() + 1) + " is unreadable but later entries exist";
    return result;
  }
  if (read_ring_header(write_offset_) || read_slot(head_.next())) result.torn_from = head_.next();
  return result;
}

std::optional<LogRing::Slot> LogRing::read_slot(OpNumber op) const {
  const std::size_t at = kLogHeaderSize + index(op) * kSlotSize;
  const ByteView bytes = region_.bytes().subspan(at, kSlotSize);
  std::uint32_t offset_units = 0;
  std::uint32_t check = 0;
  std::memcpy(&offset_units, bytes.data() + EntryHeader::kEncodedSize, 4);
  std::memcpy(&check, bytes.data() + EntryHeader::kEncodedSize + 4, 4);
  if (check != static_cast<std::uint32_t>(checksum(bytes.first(kSlotSize - 4), kSlotSeed))) {
    return std::nullopt;
  }
  auto header = decode_header(bytes);
  if (!header || header->op != op) return std::nullopt;
  const std::uint64_t offset = std::uint64_t{offset_units} * 8;
  if (offset + entry_size(header->body_size) > geometry_.ring_bytes) return std::nullopt;
  return Slot{*header, offset};
}

void LogRing::write_slot(const EntryHeader& header, std::uint64_t offset) {
  VSR_ASSERT(offset % 8 == 0 && offset + entry_size(header.body_size) <= geometry_.ring_bytes);
  std::array<std::byte, kSlotSize> bytes{};
  const EntryHeader::Encoded h = header.encoded();
  std::memcpy(bytes.data(), h.data(), h.size());
  const auto offset_units = static_cast<std::uint32_t>(offset / 8);
  std::memcpy(bytes.data() + EntryHeader::kEncodedSize, &offset_units, 4);
  const auto check = static_cast<std::uint32_t>(
      checksum(ByteView(bytes).first(kSlotSize - 4), kSlotSeed));
  std::memcpy(bytes.data() + EntryHeader::kEncodedSize + 4, &check, 4);
  region_.write(kLogHeaderSize + index(header.op) * kSlotSize, bytes);
  held_[index(header.op)] = Slot{header, offset};
}

const LogRing::Slot& LogRing::held_slot(OpNumber op) const {
  VSR_ASSERT(holds(op));
  const Slot& slot = held_[index(op)];
  VSR_ASSERT_MSG(slot.header.op == op, "a held entry lost its slot");
  return slot;
}

void LogRing::clear_slot(OpNumber op) {
  const std::array<std::byte, kSlotSize> zeros{};
  region_.write(kLogHeaderSize + index(op) * kSlotSize, zeros);
}

void LogRing::kill_ring_header(std::uint64_t offset) {
  if (offset + EntryHeader::kEncodedSize > geometry_.ring_bytes) return;
  if (!read_ring_header(offset)) return;
  const std::array<std::byte, EntryHeader::kEncodedSize> zeros{};
  region_.write(ring_start(geometry_) + offset, zeros);
}

std::optional<EntryHeader> LogRing::read_ring_header(std::uint64_t offset) const {
  if (offset + EntryHeader::kEncodedSize > geometry_.ring_bytes) return std::nullopt;
  return decode_header(region_.bytes().subspan(ring_start(geometry_) + offset));
}

ByteView LogRing::ring_body(std::uint64_t offset, std::uint32_t size) const {
  VSR_ASSERT(offset + EntryHeader::kEncodedSize + size <= geometry_.ring_bytes);
  return region_.bytes().subspan(ring_start(geometry_) + offset + EntryHeader::kEncodedSize, size);
}

std::optional<EntryView> LogRing::entry(OpNumber op) const {
  if (!holds(op) || faulty_.contains(op)) return std::nullopt;
  const Slot& slot = held_slot(op);
  return EntryView{slot.header, ring_body(slot.offset, slot.header.body_size)};
}

std::optional<EntryHeader> LogRing::header(OpNumber op) const {
  if (!holds(op)) return std::nullopt;
  return held_slot(op).header;
}

std::optional<Checksum> LogRing::checksum_at(OpNumber op) const {
  if (op == head_) return head_checksum_;
  if (op == anchor_.op) return anchor_.checksum;
  if (auto h = header(op)) return h->checksum;
  return std::nullopt;
}

std::uint64_t LogRing::end_of(OpNumber op) const {
  const Slot& slot = held_slot(op);
  return slot.offset + entry_size(slot.header.body_size);
}

std::optional<LogRing::Placement> LogRing::place(std::uint64_t size, OpNumber limit) const {
  if (size > geometry_.ring_bytes) return std::nullopt;
  const OpNumber op = head_.next();
  OpNumber evicted = first_.prev();
  // The slot of op - slot_count is reused by op: that entry must go first.
  if (op.value() >= geometry_.slot_count) {
    const OpNumber reused(op.value() - geometry_.slot_count);
    if (reused > evicted) {
      if (reused > limit) return std::nullopt;
      evicted = reused;
    }
  }
  const std::uint64_t ring = geometry_.ring_bytes;
  const std::uint64_t w = write_offset_;
  for (;;) {
    if (evicted >= head_) return Placement{w + size <= ring ? w : 0, evicted};  // nothing held
    const std::uint64_t f = held_slot(evicted.next()).offset;
    if (w > f) {  // held entries occupy [f, w)
      if (w + size <= ring) return Placement{w, evicted};
      if (size <= f) return Placement{0, evicted};
    } else if (w + size <= f) {  // held entries wrap: [f, end) and [0, w)
      return Placement{w, evicted};
    }
    if (evicted.next() > limit) return std::nullopt;
    evicted = evicted.next();
  }
}

bool LogRing::can_append(std::size_t body_size, OpNumber evictable_through) const {
  if (body_size > UINT32_MAX) return false;
  auto placement = place(entry_size(static_cast<std::uint32_t>(body_size)), evictable_through);
  return placement.has_value();
}

void LogRing::append(const EntryHeader& header, ByteView body, OpNumber evictable_through) {
  VSR_ASSERT(header.op == head_.next());
  VSR_ASSERT(header.parent == head_checksum_);
  VSR_ASSERT(header.header_valid() && header.body_valid(body));
  const std::uint64_t size = entry_size(header.body_size);
  const auto placement = place(size, evictable_through);
  VSR_ASSERT_MSG(placement.has_value(), "append without room: check can_append first");
  // Body first, then the in-ring header, then the slot: a crash at any point leaves
  // either a complete entry or one whose slot is missing (a torn tail).
  const std::size_t base = ring_start(geometry_) + placement->offset;
  region_.write(base + EntryHeader::kEncodedSize, body);
  region_.write(base, header.encoded());
  write_slot(header, placement->offset);

  if (placement->evict_through >= first_) {
    first_ = placement->evict_through.next();
    faulty_.erase(faulty_.begin(), faulty_.lower_bound(first_));
  }
  if (first_ > head_) first_ = header.op;
  head_ = header.op;
  head_checksum_ = header.checksum;
  write_offset_ = placement->offset + size;
  VSR_ASSERT(first_ <= head_);
}

void LogRing::truncate_after(OpNumber op) {
  if (op >= head_) return;
  VSR_ASSERT(op.next() >= first_);
  const auto kept = checksum_at(op);
  VSR_ASSERT_MSG(kept.has_value(), "truncating to an op whose checksum is unknown");
  const std::uint64_t offset = op >= first_ ? end_of(op) : held_slot(op.next()).offset;
  // Recovery finds an entry by its slot or, if the slot is unreadable, by its in-ring
  // header where it must be. Both copies of the first removed entry go, so neither
  // can bring it back; later ones are unreachable without it.
  kill_ring_header(held_slot(op.next()).offset);
  for (OpNumber o = head_; o > op; o = o.prev()) clear_slot(o);
  faulty_.erase(faulty_.upper_bound(op), faulty_.end());
  head_ = op;
  head_checksum_ = *kept;
  write_offset_ = offset;
  if (first_ > head_) first_ = head_.next();
}

std::vector<OpNumber> LogRing::valid_slots_past_hole() const {
  std::vector<OpNumber> ops;
  for (std::uint64_t k = 1; k < geometry_.slot_count; ++k) {
    const OpNumber later(head_.value() + 1 + k);
    if (read_slot(later)) ops.push_back(later);
  }
  return ops;
}

void LogRing::forget_past_hole() {
  for (const OpNumber op : valid_slots_past_hole())
    clear_slot(op);
}

bool LogRing::repair(const EntryHeader& header, ByteView body) {
  auto it = faulty_.find(header.op);
  if (it == faulty_.end() || it->second != header || !header.body_valid(body)) return false;
  const std::size_t base = ring_start(geometry_) + held_slot(header.op).offset;
  region_.write(base + EntryHeader::kEncodedSize, body);
  region_.write(base, header.encoded());
  faulty_.erase(it);
  return true;
}

void LogRing::reset(const Anchor& anchor) {
  for (OpNumber o = head_; o >= first_ && o.value() > 0; o = o.prev()) clear_slot(o);
  // Nothing old may be found where the entry after the new anchor would be.
  kill_ring_header(anchor.offset);
  kill_ring_header(0);
  faulty_.clear();
  anchor_ = anchor;
  head_ = anchor.op;
  head_checksum_ = anchor.checksum;
  first_ = anchor.op.next();
  write_offset_ = anchor.offset;
}

Anchor LogRing::anchor_at(OpNumber op, Checksum checksum) const {
  if (op == head_) return Anchor{op, checksum, write_offset_};
  VSR_ASSERT(holds(op.next()));
  return Anchor{op, checksum, held_slot(op.next()).offset};
}

void LogRing::set_anchor(const Anchor& anchor) {
  VSR_ASSERT(anchor.op <= head_);
  anchor_ = anchor;
}

std::uint64_t LogRing::bytes_after_anchor() const {
  const std::uint64_t ring = geometry_.ring_bytes;
  return (write_offset_ + ring - anchor_.offset) % ring;
}

}  // namespace vsr::journal
