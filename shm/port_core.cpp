#include "shm/port_core.h"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "common/assert.h"

namespace vsr::shm::detail {
namespace {

// Bounds the work spent looking for the next frame after garbage: each candidate costs
// a checksum of up to one frame.
constexpr int kResyncChecksMax = 64;
// A sender with queued frames re-checks its rings' free space this often while asleep.
constexpr std::chrono::nanoseconds kOutboxRetry = std::chrono::milliseconds(1);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

std::uint64_t random_u64() {
  std::random_device random;
  return (std::uint64_t{random()} << 32) | random();
}

// Offset of the next frame at or after `from` that passes check_frame(); bytes.size()
// if there is none (or the search budget runs out).
std::size_t resync(ByteView bytes, std::size_t from) {
  std::byte magic[sizeof kFrameMagic];
  std::memcpy(magic, &kFrameMagic, sizeof magic);
  constexpr std::size_t kMagicOffset = offsetof(FrameHeader, magic);
  std::size_t position = from;
  for (int checks = 0; checks < kResyncChecksMax; ++checks) {
    if (position + kFrameHeaderBytes > bytes.size()) break;
    const std::byte* search = bytes.data() + position + kMagicOffset;
    const auto* hit = static_cast<const std::byte*>(
        ::memmem(search, bytes.size() - position - kMagicOffset, magic, sizeof magic));
    if (hit == nullptr) break;
    const std::size_t start = static_cast<std::size_t>(hit - bytes.data()) - kMagicOffset;
    FrameHeader header;
    ByteView body;
    if (check_frame(bytes.subspan(start), header, body) == FrameError::none) return start;
    position = start + 1;
  }
  return bytes.size();
}

}  // namespace

PortCore::PortCore(Segment& segment, Endpoint self, Doorbell& bell, const PortOptions& options)
    : links_(&segment.links()),
      client_owners_(segment.client_slots() > 0 ? &segment.client_owner(0) : nullptr),
      active_slots_(self.is_replica() && segment.client_slots() > 0 ? &segment.active_slots()
                                                                    : nullptr),
      self_(self),
      bell_(bell),
      options_(options),
      cluster_id_(segment.cluster_id()),
      next_message_id_(random_u64()),
      cpu_contention_(options.loadavg_path) {
  VSR_ASSERT(options.outbox_bytes_max >= kMaxFrameBytes);
  VSR_ASSERT(options.spin_window >= std::chrono::microseconds::zero());
  VSR_ASSERT(options.uncontended_poll >= std::chrono::microseconds::zero());
}

std::size_t PortCore::add_outbound(Endpoint to, RingRef ring, Doorbell& bell) {
  VSR_ASSERT(ring.valid());
  out_.push_back(OutLink{to, ring, &bell, Outbox(options_.outbox_bytes_max), false, 0});
  return out_.size() - 1;
}

void PortCore::add_inbound(Endpoint from, RingRef ring) {
  VSR_ASSERT(ring.valid());
  in_.push_back(InLink{from, ring, Reassembler{}});
  if (ring.capacity() > staging_bytes_) {
    staging_bytes_ = ring.capacity();
    staging_ = std::make_unique_for_overwrite<std::byte[]>(staging_bytes_);
  }
}

bool PortCore::link_up(const OutLink& out) const {
  if (!self_.is_replica() || !out.to.is_replica()) return true;  // clients are never cut
  return links_->allowed(self_.index, out.to.index);
}

SendResult PortCore::send(std::size_t destination, std::uint16_t kind, ByteView body,
                          std::uint32_t slot_generation) {
  VSR_ASSERT(destination < out_.size());
  OutLink& out = out_[destination];
  if (body.size() > kMaxMessageBytes) {
    ++counters_.dropped_too_big;
    return SendResult{SendError::too_big};
  }
  if (!link_up(out)) {
    ++counters_.dropped_link_cut;
    return SendResult{SendError::link_cut};
  }
  if (out.to.is_client()) {
    const OwnerInfo owner = read_owner(client_owners_[out.to.index]);
    if (!owner.claimed() || owner.generation != slot_generation) {
      ++counters_.dropped_stale_generation;
      return SendResult{SendError::stale_generation};
    }
    if (out.generation != slot_generation) {
      // Frames queued for the slot's previous owner would only be dropped by the new one.
      counters_.frames_discarded += out.outbox.clear();
      out.generation = slot_generation;
    }
  }
  const std::size_t bytes = framed_bytes(body.size());
  if (!out.outbox.fits(bytes)) {
    ++counters_.dropped_outbox_full;
    return SendResult{SendError::outbox_full};
  }
  FrameHeader header;
  header.cluster_id = cluster_id_;
  header.message_id = next_message_id_++;
  header.kind = kind;
  header.sender_type = static_cast<std::uint8_t>(self_.type);
  header.sender_index = static_cast<std::uint16_t>(self_.index);
  header.slot_generation = slot_generation;
  const std::size_t frames = fragment_count(body.size());
  encode_message(header, body, out.outbox.append(bytes, frames));
  if (!out.dirty) {
    out.dirty = true;
    dirty_.push_back(static_cast<std::uint32_t>(destination));
  }
  ++counters_.messages_queued;
  counters_.frames_queued += frames;
  return SendResult{};
}

void PortCore::flush() {
  for (std::size_t k = 0; k < dirty_.size();) {
    const std::uint32_t destination = dirty_[k];
    OutLink& out = out_[destination];
    VSR_ASSERT(out.dirty && !out.outbox.empty());
    if (!link_up(out)) {
      counters_.frames_discarded += out.outbox.clear();
    } else {
      const Outbox::Prefix prefix = out.outbox.fitting_prefix(out.ring.write_available());
      if (prefix.frames > 0) {
        const bool pushed = out.ring.push_whole(out.outbox.pending().first(prefix.bytes));
        VSR_ASSERT(pushed);
        out.outbox.consume(prefix);
        ++counters_.pushes;
        counters_.frames_pushed += prefix.frames;
        counters_.bytes_pushed += prefix.bytes;
        pushed_.push_back(destination);
      }
    }
    if (out.outbox.empty()) {
      out.dirty = false;
      dirty_[k] = dirty_.back();
      dirty_.pop_back();
    } else {
      ++k;
    }
  }
  if (pushed_.empty()) return;
  // One fence for all the pushes above, then wake only the receivers that sleep.
  fence_before_ring();
  for (const std::uint32_t destination : pushed_) {
    if (out_[destination].bell->ring_if_sleeping()) ++counters_.wakes_sent;
  }
  pushed_.clear();
  worked_ = true;
}

std::size_t PortCore::pending_bytes() const {
  std::size_t bytes = 0;
  for (const std::uint32_t destination : dirty_)
    bytes += out_[destination].outbox.pending_bytes();
  return bytes;
}

bool PortCore::has_inbound_data() const {
  const ActiveSlots::Snapshot active = read_active();
  for (const InLink& in : in_) {
    if (polled(in, active) && in.ring.read_available() > 0) return true;
  }
  return false;
}

bool PortCore::outbox_can_progress() const {
  for (const std::uint32_t destination : dirty_) {
    const OutLink& out = out_[destination];
    if (!link_up(out) || out.ring.write_available() >= out.outbox.first_frame_bytes()) return true;
  }
  return false;
}

void PortCore::count(FrameError error) {
  switch (error) {
    case FrameError::none:
      VSR_ASSERT(false);
      break;
    case FrameError::truncated:
      ++counters_.bad_truncated;
      break;
    case FrameError::bad_magic:
      ++counters_.bad_magic;
      break;
    case FrameError::bad_length:
      ++counters_.bad_length;
      break;
    case FrameError::bad_checksum:
      ++counters_.bad_checksum;
      break;
    case FrameError::bad_reserved:
      ++counters_.bad_reserved;
      break;
    case FrameError::bad_fragment:
      ++counters_.bad_fragment;
      break;
    case FrameError::bad_cluster:
      ++counters_.bad_cluster;
      break;
    case FrameError::bad_sender:
      ++counters_.bad_sender;
      break;
    case FrameError::bad_generation:
      ++counters_.bad_generation;
      break;
  }
}

FrameError PortCore::check_generation(const InLink& in, const FrameHeader& header,
                                      std::uint32_t current_generation, bool& stale) const {
  stale = false;
  if (self_.is_replica() && in.from.is_replica()) {
    return header.slot_generation == 0 ? FrameError::none : FrameError::bad_generation;
  }
  // Client -> replica: the sender's generation; replica -> client: the receiver's. Either
  // way a frame of another generation belongs to another owner of the slot.
  stale = header.slot_generation != current_generation;
  return FrameError::none;
}

std::size_t PortCore::parse(InLink& in, ByteView bytes, MessageSink sink) {
  // The generation a client frame must carry: the slot's current one (read after the
  // pop, so it is at least the generation of every frame popped) or our own.
  std::uint32_t current_generation = 0;
  if (in.from.is_client()) {
    current_generation = read_owner(client_owners_[in.from.index]).generation;
  } else if (self_.is_client()) {
    current_generation = self_.generation;
  }
  std::size_t delivered = 0;
  std::size_t at = 0;
  while (at < bytes.size()) {
    FrameHeader header;
    ByteView body;
    FrameError error = check_frame(bytes.subspan(at), header, body);
    if (length_untrusted(error)) {
      count(error);
      const std::size_t next = resync(bytes, at + 1);
      counters_.bytes_skipped += next - at;
      at = next;
      continue;
    }
    bool stale = false;
    if (error == FrameError::none) error = check_sender(header, cluster_id_, in.from);
    if (error == FrameError::none) error = check_generation(in, header, current_generation, stale);
    at += header.length;
    if (error != FrameError::none) {
      count(error);
      continue;
    }
    if (stale) {
      ++counters_.stale_generation_received;
      continue;
    }
    ++counters_.frames_received;
    counters_.bytes_received += header.length;
    const std::uint64_t discarded_before = in.reassembly.discarded();
    const Reassembler::Outcome outcome = in.reassembly.feed(header, body);
    counters_.reassemblies_discarded += in.reassembly.discarded() - discarded_before;
    if (outcome == Reassembler::Outcome::rejected) {
      ++counters_.fragments_out_of_order;
      continue;
    }
    if (outcome == Reassembler::Outcome::complete) {
      Endpoint from = in.from;
      from.generation = from.is_client() ? header.slot_generation : 0;
      ++counters_.messages_received;
      ++delivered;
      sink.call(sink.context, from, header.kind, in.reassembly.message());
    }
  }
  VSR_ASSERT(at == bytes.size());
  return delivered;
}

std::size_t PortCore::poll(MessageSink sink) {
  VSR_ASSERT_MSG(!polling_, "poll() called from inside its own callback");
  polling_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{polling_};
  std::size_t delivered = 0;
  const ActiveSlots::Snapshot active = read_active();
  for (InLink& in : in_) {
    if (!polled(in, active) || in.ring.read_available() == 0) continue;
    const std::size_t bytes = in.ring.pop_all(staging_.get(), staging_bytes_);
    if (bytes == 0) continue;
    delivered += parse(in, ByteView(staging_.get(), bytes), sink);
  }
  if (delivered > 0) worked_ = true;
  return delivered;
}

std::size_t PortCore::discard_inbound() {
  std::size_t bytes = 0;
  for (InLink& in : in_)
    bytes += in.ring.pop_all(staging_.get(), staging_bytes_);
  return bytes;
}

void PortCore::nap(std::chrono::microseconds timeout) {
  ++counters_.naps;
  const std::uint32_t seen = bell_.word.load(std::memory_order_acquire);
  if (local_work_check_ != nullptr && local_work_check_(local_work_context_)) return;
  futex_wait(bell_.word, seen, timeout);
}

bool PortCore::wait(std::chrono::microseconds timeout, bool may_spin) {
  ++counters_.waits;
  const std::uint32_t seen = bell_.word.load(std::memory_order_acquire);
  if (has_work()) {
    ++counters_.wakes_immediate;
    return true;
  }
  const auto now = monotonic_now();
  if (worked_) {
    // Work since the last wait: the window starts now (a clock read per wait, not per
    // message).
    last_work_ = now;
    worked_ = false;
  }
  const auto deadline = now + timeout;
  const auto window_end =
      may_spin ? std::min(last_work_ + options_.spin_window, deadline) : now;
  auto ready = [&] { return has_work() || bell_.word.load(std::memory_order_relaxed) != seen; };
  // Nobody waiting for a CPU: poll first, and yield only every `uncontended_poll`.
  auto uncontended = [&] {
    return options_.uncontended_poll > std::chrono::nanoseconds::zero() &&
           !cpu_contention_.contended();
  };
  bool yield_now = true;
  if (now < window_end && uncontended()) {
    // A process that always finds work within `uncontended_poll` never yields, so it
    // re-reads here (at most every 2 ms) lest "uncontended" outlive the fact.
    cpu_contention_.refresh(now);
    if (uncontended()) {
      ++counters_.uncontended_waits;
      yield_now = false;
    }
  }
  // Otherwise yield first: a process waiting for this core (the receiver of what we just
  // sent, when processes outnumber cores) runs at once. Then a few polls, so a message
  // that lands just after the yield is seen without paying for another yield.
  for (auto at = now; at < window_end;) {
    if (yield_now) {
      if (options_.uncontended_poll > std::chrono::nanoseconds::zero()) {
        cpu_contention_.refresh(at);  // about to give up the CPU anyway
      }
      ::sched_yield();
      ++counters_.window_yields;
      at = monotonic_now();
    }
    const auto poll_end = uncontended() ? std::min(at + options_.uncontended_poll, window_end)
                                        : std::chrono::nanoseconds::zero();
    yield_now = true;
    for (std::uint32_t i = 0;; ++i) {
      if (ready()) {
        ++counters_.wakes_in_window;
        return true;
      }
      cpu_relax();
      if (i < options_.polls_between_yields) continue;
      at = monotonic_now();
      if (at >= poll_end) break;
    }
  }
  for (;;) {
    const auto remaining = deadline - monotonic_now();
    if (remaining <= std::chrono::nanoseconds::zero()) {
      ++counters_.wakes_timeout;
      return false;
    }
    const bool retry_outbox = !dirty_.empty() && remaining > kOutboxRetry;
    const auto slice = retry_outbox ? kOutboxRetry : remaining;
    switch (sleep_on(bell_, seen, slice, [this] { return has_work(); })) {
      case SleepResult::ready:
        ++counters_.wakes_on_recheck;
        return true;
      case SleepResult::rung:
        ++counters_.wakes_rung;
        return true;
      case SleepResult::timed_out:
        if (has_inbound_data()) {
          ++counters_.wakes_timeout_with_work;
          return true;
        }
        if (outbox_can_progress()) return true;
        if (!retry_outbox) {
          ++counters_.wakes_timeout;
          return false;
        }
        break;
    }
  }
}

}  // namespace vsr::shm::detail
