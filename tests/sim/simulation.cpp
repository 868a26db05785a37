#include "tests/sim/simulation.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "check/check.h"
#include "check/report.h"
#include "common/assert.h"
#include "common/checksum.h"
#include "tests/sim/replica_host.h"
#include "tests/sim/sim_client.h"

namespace vsr::sim {

bool bugs_available() {
#ifdef VSR_TEST_BUGS
  return true;
#else
  return false;
#endif
}

namespace {

constexpr std::uint64_t kCluster = 0x51a1;

// A replica's broken invariant, raised by the handler the simulator installs.
struct InvariantViolated {
  std::string what;
};

[[noreturn]] void throw_invariant(const char* expr, const char* file, int line, const char* msg) {
  throw InvariantViolated{std::string(expr) + " at " + file + ":" + std::to_string(line) +
                          (msg ? std::string(": ") + msg : std::string())};
}

// What a seed draws: cluster size, fault mix, protocol knobs (swarm testing).
struct Plan {
  std::uint32_t replicas = 3;
  NetworkFaults network;
  std::uint64_t active_ticks = 2000;
  std::uint32_t fault_interval = 100;
  double p_crash = 0, p_torn = 0, p_wipe = 0, p_pause = 0, p_partition = 0, p_flip = 0;
  std::uint32_t clients = 3;
  ClientOptions client;
  ReplicaConfig config;
  journal::Geometry geometry;
};

Plan draw_plan(const Options& options, Rng& rng) {
  Plan plan;
  const std::uint64_t size = rng.below(100);
  plan.replicas = size < 5 ? 1 : size < 65 ? 3 : size < 95 ? 5 : 7;
  if (options.replicas) plan.replicas = *options.replicas;
  plan.network.loss = rng.chance(0.3) ? 0 : rng.unit() * 0.3;
  plan.network.duplicate = rng.chance(0.5) ? 0 : rng.unit() * 0.1;
  plan.network.delay_max = static_cast<std::uint32_t>(rng.between(1, 6));
  plan.active_ticks = rng.between(1000, 3000);
  plan.fault_interval = static_cast<std::uint32_t>(rng.between(30, 200));
  plan.p_crash = rng.chance(0.7) ? rng.unit() * 0.5 : 0;
  plan.p_torn = rng.chance(0.5) ? rng.unit() * 0.3 : 0;
  plan.p_wipe = rng.chance(0.5) ? rng.unit() * 0.2 : 0;
  plan.p_pause = rng.chance(0.5) ? rng.unit() * 0.3 : 0;
  plan.p_partition = rng.chance(0.6) ? rng.unit() * 0.4 : 0;
  plan.p_flip = rng.chance(0.4) ? rng.unit() * 0.3 : 0;
  plan.clients = static_cast<std::uint32_t>(rng.between(1, 6));
  plan.client.keys = static_cast<std::uint32_t>(rng.between(1, 5));

  ReplicaConfig& c = plan.config;
  c.cluster = kCluster;
  c.replica_count = plan.replicas;
  c.heartbeat_ticks = 5;
  c.view_change_timeout_ticks = 30;
  c.prepare_retry_ticks = 10;
  c.gap_wait_ticks = 4;
  c.retry_ticks = 10;
  c.pipeline_max = static_cast<std::uint32_t>(rng.between(1, 8));
  c.batch_max_requests = static_cast<std::uint32_t>(rng.between(1, 8));
  c.batch_max_bytes = 48 * 1024;
  c.request_queue_max = 64;
  c.checkpoint_interval = rng.between(5, 200);
  // At least one session per client, so that evictions hit the sessions of clients
  // that gave up (and, sometimes, a live one), not every client all the time.
  c.client_table_capacity = plan.clients + rng.between(0, 6);
  c.seed = rng.next();
  plan.geometry.slot_count = rng.chance(0.5) ? 64 : 512;
  plan.geometry.ring_bytes = 4 * (c.pipeline_max + 1) * c.batch_max_bytes;
  return plan;
}

class Simulation {
 public:
  explicit Simulation(const Options& options);
  Result run();

 private:
  void boot(ReplicaId r);
  void deliver(const Packet& packet);
  void step_replica(ReplicaId r, const Packet& packet);
  void collect(ReplicaId r);
  void tick_replicas();
  void tick_clients(bool issue_new);
  void inject_faults();
  void undo_due_faults();
  void heal();
  // Sync mode batch's driver, modelled: every sync before output, except a primary's
  // log "synced in the background" (ReplicaConfig::self_durability_reported), whose sync
  // is reported a few ticks later. The storage keeps a durable image, so a power loss
  // takes exactly what these syncs had not yet covered.
  void model_sync_before_send(ReplicaId r);
  void maybe_start_sync(ReplicaId r);
  void power_loss(ReplicaId r);
  void finish_sync(ReplicaId r);
  void check_agreement();
  bool converged();
  void check_linearizable();
  std::optional<ReplicaId> current_primary() const;
  std::uint32_t lost_state() const;
  void violation(std::string what);
  void trace(const std::string& what);
  void hash(const void* data, std::size_t size) { trace_hash_.update(data, size); }

  Options options_;
  Rng rng_;
  Plan plan_;
  std::uint64_t now_ = 0;
  Network network_;
  std::vector<std::unique_ptr<ReplicaHost>> hosts_;
  std::vector<bool> wiped_;     // down with no state, or recovering after that
  std::vector<bool> torn_;      // crashed in the middle of a step, or armed to
  std::vector<bool> awaiting_repair_;
  std::vector<std::uint64_t> restart_at_;
  std::vector<std::uint64_t> resume_at_;
  std::uint64_t partition_until_ = 0;
  check::History history_;
  std::uint64_t next_process_ = 1;
  std::vector<std::unique_ptr<SimClient>> clients_;

  // Agreement: the one committed history every replica must agree with.
  std::map<OpNumber, Checksum> committed_;
  std::map<OpNumber, std::pair<Checksum, Checksum>> state_at_;  // commit -> digests
  std::vector<OpNumber> checked_;
  std::vector<OpNumber> digest_checked_;

  struct Syncing {
    std::uint64_t due = 0;
    std::uint64_t boots = 0;  // the process that asked (a crash ends its report)
    OpNumber op;
    std::uint64_t rewrites = 0;
    std::uint64_t log_writes = 0;  // the log's writes the fdatasync covers
  };
  // Hands a completed sync to the process that asked for it, if that one still runs
  // (then true).
  bool report_durable(ReplicaId r, const Syncing& done);
  // Its own stream, so that runs without background syncs draw what they always drew.
  Rng durability_rng_;
  // The supervisor's hints (its own stream too): in some seeds, replicas hear at once
  // that a peer's process died, as vsr-supervisor tells them; now and then wrongly.
  Rng hint_rng_;
  bool hints_ = false;
  double p_false_hint_ = 0;
  void hint_down(ReplicaId down);
  void deliver_hint(ReplicaId r, ReplicaId down);
  double p_power_ = 0;  // per fault interval: a power loss (sometimes of the whole host)
  std::vector<std::optional<Syncing>> syncing_;     // a background sync under way
  std::vector<std::optional<Syncing>> synced_now_;  // a synchronous sync to report
  std::vector<std::pair<OpNumber, std::uint64_t>> sync_requested_;

  Result result_;
  ChecksumStream trace_hash_{0x7472616365ULL};
};

Simulation::Simulation(const Options& options)
    : options_(options),
      rng_(options.seed),
      plan_(draw_plan(options, rng_)),
      network_(plan_.replicas, plan_.replicas + plan_.clients, rng_.fork()),
      durability_rng_(options.seed ^ 0x64757261626c65ULL),
      hint_rng_(options.seed ^ 0x68696e7473ULL) {
  network_.set_faults(plan_.network);
  result_.seed = options.seed;
  result_.replicas = plan_.replicas;
#ifdef VSR_TEST_BUGS
  BugSwitches& bugs = plan_.config.bugs;
  if (options.bug == "ack-conflicting-entry") bugs.ack_conflicting_entry = true;
  else if (options.bug == "quorum-from-connected") bugs.quorum_from_connected = true;
  else if (options.bug == "early-last-normal-view") bugs.early_last_normal_view = true;
  else if (options.bug == "unstable-primary-order") bugs.unstable_primary_order = true;
  else VSR_ASSERT_MSG(options.bug.empty(), "unknown bug name");
#else
  VSR_ASSERT_MSG(options.bug.empty(), "bug switches exist only in the test build");
#endif
  result_.background_sync = durability_rng_.chance(0.5);
  p_power_ = durability_rng_.chance(0.5) ? durability_rng_.unit() * 0.3 : 0;
  hints_ = hint_rng_.chance(0.5);
  p_false_hint_ = hints_ && hint_rng_.chance(0.5) ? hint_rng_.unit() * 0.1 : 0;
  plan_.config.self_durability_reported = result_.background_sync;
  // Its own stream, like the two above, so that adding it changed no other draw.
  Rng fanout_rng(options.seed ^ 0x66616e6f7574ULL);
  result_.fanout_all = fanout_rng.chance(0.5);
  plan_.config.prepare_fanout = result_.fanout_all ? ReplicaConfig::PrepareFanout::all
                                                   : ReplicaConfig::PrepareFanout::quorum_first;
  plan_.config.quorum_first_requests_max = fanout_rng.between(1, 8);  // batches hold 1-8
  syncing_.assign(plan_.replicas, std::nullopt);
  synced_now_.assign(plan_.replicas, std::nullopt);
  sync_requested_.assign(plan_.replicas, {OpNumber(0), 0});
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    ReplicaConfig config = plan_.config;
    config.self = r;
    hosts_.push_back(std::make_unique<ReplicaHost>(config, plan_.geometry));
    hosts_.back()->format();
  }
  wiped_.assign(plan_.replicas, false);
  torn_.assign(plan_.replicas, false);
  awaiting_repair_.assign(plan_.replicas, false);
  restart_at_.assign(plan_.replicas, 0);
  resume_at_.assign(plan_.replicas, 0);
  checked_.assign(plan_.replicas, OpNumber(0));
  digest_checked_.assign(plan_.replicas, OpNumber(0));
  for (std::uint32_t i = 0; i < plan_.clients; ++i) {
    clients_.push_back(std::make_unique<SimClient>(plan_.replicas + i, plan_.replicas, plan_.client,
                                                   rng_.fork(), history_, next_process_));
  }
  for (ReplicaId r = 0; r < plan_.replicas; ++r) boot(r);
}

void Simulation::violation(std::string what) {
  if (result_.violations.size() < 20) {
    result_.violations.push_back("tick " + std::to_string(now_) + ": " + std::move(what));
  }
}

void Simulation::trace(const std::string& what) {
  if (options_.trace) std::cerr << "[" << now_ << "] " << what << "\n";
}

void Simulation::boot(ReplicaId r) {
  ReplicaHost& host = *hosts_[r];
  const Boot::Kind kind = host.start(rng_.next());
  // A new process: its driver has asked for no sync yet.
  synced_now_[r].reset();
  sync_requested_[r] = {OpNumber(0), 0};
  checked_[r] = OpNumber(0);
  digest_checked_[r] = OpNumber(0);
  if (kind == Boot::Kind::recover) {
    ++result_.faults.recoveries;
    // Only a wipe or a crash in the middle of a write may cost a replica its state.
    if (!wiped_[r] && !torn_[r]) {
      violation("replica " + std::to_string(r) + " lost its state in a clean crash: " +
                host.last_boot_detail());
    }
    wiped_[r] = true;
  }
  torn_[r] = false;
  awaiting_repair_[r] = false;
  if (kind == Boot::Kind::restart) {
    const std::size_t faulty = host.replica().journal().log().faulty().size();
    result_.faults.faulty_entries += faulty;
    // Until peers repair it, the replica cannot vote: it counts against the budget,
    // down or up, because the faulty entry stays on its disk.
    awaiting_repair_[r] = faulty > 0;
  }
  trace("replica " + std::to_string(r) + (kind == Boot::Kind::recover ? " recovering" : " up") +
        (host.last_boot_detail().empty() ? "" : " (" + host.last_boot_detail() + ")"));
  collect(r);
}

void Simulation::collect(ReplicaId r) {
  ReplicaHost& host = *hosts_[r];
  if (!host.up()) return;
  if (host.crashed_mid_step()) {
    // Killed in the middle of the step: nothing it meant to send was sent.
    host.replica().output().clear();
    host.crash();
    torn_[r] = true;
    restart_at_[r] = now_ + rng_.between(5, 100);
    trace("replica " + std::to_string(r) + " killed mid-write");
    return;
  }
  Output& out = host.replica().output();
  model_sync_before_send(r);
  for (Envelope& e : out.messages) {
    Bytes bytes;
    encode(e.message, bytes);
    const MessageKind kind = kind_of(e.message);
    if (e.to) {
      network_.send(now_, r, *e.to, kind, std::move(bytes));
    } else {
      for (ReplicaId to = 0; to < plan_.replicas; ++to) {
        if (to != r) network_.send(now_, r, to, kind, bytes);
      }
    }
  }
  for (ClientReply& reply : out.replies) {
    Bytes bytes;
    encode(reply.reply, bytes);
    network_.send(now_, r, static_cast<NodeId>(reply.client), MessageKind::reply, std::move(bytes));
  }
  out.clear();
  maybe_start_sync(r);
}

void Simulation::model_sync_before_send(ReplicaId r) {
  ReplicaHost& host = *hosts_[r];
  Replica& replica = host.replica();
  const Output& out = replica.output();
  if (out.empty() && !host.superblock_region().has_unsynced()) return;
  // The fast path: a primary whose log is synced in the background sends what vouches
  // for nothing in its log at once, if its view is durable (no superblock write pending).
  const bool fast = result_.background_sync && replica.is_primary() &&
                    !host.superblock_region().has_unsynced() && !out.vouches_for_own_log();
  if (fast) return;
  host.sync_all();
  // The driver reports that sync at its next turn.
  if (result_.background_sync) {
    synced_now_[r] = Syncing{now_, host.boots(), replica.op(), replica.journal().rewrites(), 0};
  }
}

void Simulation::maybe_start_sync(ReplicaId r) {
  if (!result_.background_sync || syncing_[r]) return;
  Replica& replica = hosts_[r]->replica();
  if (!replica.is_primary()) return;
  const std::pair<OpNumber, std::uint64_t> mark{replica.op(), replica.journal().rewrites()};
  if (mark == sync_requested_[r]) return;
  // When the vote is wanted, and now and then regardless (the driver's lazy sync).
  if (!replica.wants_durable() && !durability_rng_.chance(0.1)) return;
  sync_requested_[r] = mark;
  syncing_[r] = Syncing{now_ + durability_rng_.between(1, 4), hosts_[r]->boots(), mark.first,
                        mark.second, hosts_[r]->log_region().writes()};
}

void Simulation::finish_sync(ReplicaId r) {
  ReplicaHost& host = *hosts_[r];
  if (synced_now_[r]) {
    const Syncing done = *synced_now_[r];
    synced_now_[r].reset();
    report_durable(r, done);
  }
  if (!syncing_[r] || syncing_[r]->due > now_) return;
  const Syncing done = *syncing_[r];
  syncing_[r].reset();
  // The fdatasync finishes whatever became of the process that asked (only a power
  // cut stops it: power_loss() drops the request): the log's writes made before the
  // request are durable.
  host.log_region().make_durable_through(done.log_writes);
  if (report_durable(r, done)) ++result_.durable_reports;
}

bool Simulation::report_durable(ReplicaId r, const Syncing& done) {
  ReplicaHost& host = *hosts_[r];
  if (!host.up() || host.boots() != done.boots) return false;
  try {
    host.replica().on_durable(done.op, done.rewrites);  // may commit, execute, checkpoint
  } catch (const journal::ProcessKilled&) {
  }
  collect(r);
  return true;
}

void Simulation::deliver(const Packet& packet) {
  hash(&packet.deliver_at, sizeof(packet.deliver_at));
  hash(&packet.from, sizeof(packet.from));
  hash(&packet.to, sizeof(packet.to));
  hash(packet.bytes.data(), packet.bytes.size());
  if (packet.to >= plan_.replicas) {
    auto reply = decode_reply(packet.bytes);
    VSR_ASSERT_MSG(reply.has_value(), "a reply failed to decode");
    clients_[packet.to - plan_.replicas]->on_reply(now_, *reply);
    return;
  }
  ReplicaHost& host = *hosts_[packet.to];
  if (!host.up()) return;
  if (host.paused) {
    if (host.held.size() < 2000) host.held.push_back(packet);
    return;
  }
  step_replica(static_cast<ReplicaId>(packet.to), packet);
}

void Simulation::step_replica(ReplicaId r, const Packet& packet) {
  ReplicaHost& host = *hosts_[r];
  try {
    if (packet.kind == MessageKind::request) {
      auto request = decode_request(packet.bytes);
      VSR_ASSERT_MSG(request.has_value(), "a request failed to decode");
      host.replica().on_request(packet.from, *request);
    } else {
      auto message = decode_message(packet.kind, packet.bytes);
      VSR_ASSERT_MSG(message.has_value(), "a message failed to decode");
      if (options_.trace_messages) {
        std::ostringstream line;
        line << "  -> r" << int(r) << " " << *message << " [r" << int(r) << " "
             << to_string(host.replica().status()) << " v" << host.replica().view() << " op"
             << host.replica().op() << " c" << host.replica().commit() << "]";
        trace(line.str());
      }
      host.replica().step(*message);
    }
    host.replica().flush();
  } catch (const journal::ProcessKilled&) {
  }
  collect(r);
}

void Simulation::tick_replicas() {
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    ReplicaHost& host = *hosts_[r];
    if (!host.up() || host.paused) continue;
    finish_sync(r);
    if (!host.up()) continue;
    try {
      host.replica().tick();
      host.replica().flush();
    } catch (const journal::ProcessKilled&) {
    }
    collect(r);
    if (host.up() && awaiting_repair_[r] && host.replica().journal().log().faulty().empty()) {
      awaiting_repair_[r] = false;
      ++result_.faults.repairs;
      trace("replica " + std::to_string(r) + " repaired its faulty entries");
    }
    if (host.up() && wiped_[r] && host.replica().status() != Status::recovering) {
      wiped_[r] = false;  // recovered: it holds the cluster's state again
      trace("replica " + std::to_string(r) + " recovered");
    }
  }
}

void Simulation::tick_clients(bool issue_new) {
  for (auto& client : clients_) {
    const NodeId node = static_cast<NodeId>(plan_.replicas + (&client - clients_.data()));
    client->tick(now_, issue_new, [&](std::uint32_t to, const Request& request) {
      Bytes bytes;
      encode(request, bytes);
      network_.send(now_, node, to, MessageKind::request, std::move(bytes));
    });
  }
}

std::optional<ReplicaId> Simulation::current_primary() const {
  std::optional<ReplicaId> best;
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    const ReplicaHost& h = *hosts_[r];
    if (!h.up() || h.replica().status() != Status::normal || !h.replica().is_primary()) continue;
    if (!best || h.replica().view() > hosts_[*best]->replica().view()) best = r;
  }
  return best;
}

void Simulation::hint_down(ReplicaId down) {
  if (!hints_) return;
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    ReplicaHost& host = *hosts_[r];
    if (r == down || !host.up()) continue;
    // A paused process finds the changed counter in the segment when it resumes.
    if (host.paused) {
      host.missed_hints.insert(down);
      continue;
    }
    deliver_hint(r, down);
  }
}

void Simulation::deliver_hint(ReplicaId r, ReplicaId down) {
  if (!hint_rng_.chance(0.8)) return;
  ReplicaHost& host = *hosts_[r];
  ++result_.faults.hints;
  trace("hint to replica " + std::to_string(r) + ": replica " + std::to_string(down) + " is down" +
        (hosts_[down]->up() ? " (wrongly)" : ""));
  try {
    host.replica().hint_replica_down(down);
    host.replica().flush();
  } catch (const journal::ProcessKilled&) {
  }
  collect(r);
}

void Simulation::power_loss(ReplicaId r) {
  if (options_.power_loss_pages) {
    hosts_[r]->power_loss_pages(durability_rng_.next());
  } else {
    hosts_[r]->power_loss();
  }
  syncing_[r].reset();  // the fdatasync under way did not finish
  synced_now_[r].reset();
  // torn_ stays as it was: a power loss costs only what was never synced (never the
  // state), but a flipped bit or a torn write before it still may.
  restart_at_[r] = now_ + durability_rng_.between(5, 100);
  trace("power loss on replica " + std::to_string(r));
}

std::uint32_t Simulation::lost_state() const {
  // Replicas that have lost state, may have (a pending torn crash or a flipped bit
  // not yet seen), or cannot vote until a peer repairs a faulty entry.
  std::uint32_t n = 0;
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    n += (wiped_[r] || torn_[r] || awaiting_repair_[r]) ? 1 : 0;
  }
  return n;
}

void Simulation::inject_faults() {
  const std::uint32_t f = plan_.config.f();
  const auto pick = [&]() -> ReplicaId {
    // The primary more often than not: that is where the interesting failures are.
    if (auto p = current_primary(); p && rng_.chance(0.5)) return *p;
    return static_cast<ReplicaId>(rng_.below(plan_.replicas));
  };
  if (rng_.chance(plan_.p_crash)) {
    const ReplicaId r = pick();
    if (hosts_[r]->up()) {
      ++result_.faults.crashes;
      hosts_[r]->crash();
      torn_[r] = false;  // a clean crash disarms a pending torn one
      restart_at_[r] = now_ + rng_.between(10, 300);
      trace("crash replica " + std::to_string(r));
      hint_down(r);
    }
  }
  if (f > 0 && lost_state() == 0 && rng_.chance(plan_.p_torn)) {
    const ReplicaId r = pick();
    if (hosts_[r]->up()) {
      ++result_.faults.torn_crashes;
      hosts_[r]->arm_crash(rng_.below(12), rng_.below(64));
      torn_[r] = true;  // counts against the budget from now on: it may lose its state
    }
  }
  if (f > 0 && lost_state() < f && rng_.chance(plan_.p_wipe)) {
    const ReplicaId r = pick();
    ++result_.faults.wipes;
    if (hosts_[r]->up()) hosts_[r]->crash();
    hosts_[r]->wipe();
    wiped_[r] = true;
    restart_at_[r] = now_ + rng_.between(10, 200);
    trace("wipe replica " + std::to_string(r));
    hint_down(r);
  }
  if (f > 0 && lost_state() == 0 && rng_.chance(plan_.p_flip)) {
    // A bit flips on disk while the replica is down: on restart it must notice, and
    // repair the entry from a peer, or recover, never use it.
    const ReplicaId r = pick();
    if (hosts_[r]->up()) {
      ++result_.faults.bit_flips;
      const std::string where = hosts_[r]->crash_and_flip_bit(rng_.next());
      torn_[r] = true;  // may cost its state (a checkpoint or a file header)
      restart_at_[r] = now_ + rng_.between(5, 100);
      trace("flip a bit in replica " + std::to_string(r) + ": " + where);
    }
  }
  // Its own stream: the faults above are what they were for this seed.
  if (p_power_ > 0 && durability_rng_.chance(p_power_)) {
    if (durability_rng_.chance(0.2)) {
      ++result_.faults.power_cuts;
      for (ReplicaId r = 0; r < plan_.replicas; ++r)
        power_loss(r);
    } else {
      const auto p = current_primary();
      const ReplicaId r = p && durability_rng_.chance(0.6)
                              ? *p
                              : static_cast<ReplicaId>(durability_rng_.below(plan_.replicas));
      ++result_.faults.power_losses;
      power_loss(r);
    }
  }
  if (p_false_hint_ > 0 && hint_rng_.chance(p_false_hint_)) {
    // A hint about a replica that is up (the real supervisor's can be stale: it saw a
    // process die that has been restarted since). Safety must not depend on hints.
    const ReplicaId r = static_cast<ReplicaId>(hint_rng_.below(plan_.replicas));
    if (hosts_[r]->up()) {
      ++result_.faults.false_hints;
      hint_down(r);
    }
  }
  if (rng_.chance(plan_.p_pause)) {
    const ReplicaId r = pick();
    if (hosts_[r]->up() && !hosts_[r]->paused) {
      ++result_.faults.pauses;
      hosts_[r]->paused = true;
      resume_at_[r] = now_ + rng_.between(10, 300);
      trace("pause replica " + std::to_string(r));
    }
  }
  if (plan_.replicas > 1 && rng_.chance(plan_.p_partition)) {
    ++result_.faults.partitions;
    network_.heal();
    const std::uint64_t kind = rng_.below(3);
    if (kind == 0) {  // isolate the primary
      const ReplicaId p = pick();
      for (ReplicaId r = 0; r < plan_.replicas; ++r) {
        network_.set_link(p, r, r == p);
        network_.set_link(r, p, r == p);
      }
      trace("isolate replica " + std::to_string(p));
    } else if (kind == 1) {  // two sides
      std::vector<bool> side(plan_.replicas);
      for (auto&& s : side) s = rng_.chance(0.5);
      for (ReplicaId a = 0; a < plan_.replicas; ++a) {
        for (ReplicaId b = 0; b < plan_.replicas; ++b) network_.set_link(a, b, side[a] == side[b]);
      }
      trace("split partition");
    } else {  // one-way cuts
      for (ReplicaId a = 0; a < plan_.replicas; ++a) {
        for (ReplicaId b = 0; b < plan_.replicas; ++b) {
          if (a != b && rng_.chance(0.3)) network_.set_link(a, b, false);
        }
      }
      trace("asymmetric partition");
    }
    partition_until_ = now_ + rng_.between(20, 400);
  }
}

void Simulation::undo_due_faults() {
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    ReplicaHost& host = *hosts_[r];
    if (!host.up() && restart_at_[r] != 0 && now_ >= restart_at_[r]) {
      restart_at_[r] = 0;
      boot(r);
    }
    if (host.up() && host.paused && now_ >= resume_at_[r]) {
      host.paused = false;
      trace("resume replica " + std::to_string(r));
      std::vector<Packet> held;
      held.swap(host.held);
      for (const Packet& p : held) {
        if (!host.up()) break;
        step_replica(r, p);
      }
      // The event loop's next turn: the frames that waited in its rings, then the down
      // counters that changed meanwhile (one hint per replica, however often it went down).
      std::set<ReplicaId> missed;
      missed.swap(host.missed_hints);
      for (const ReplicaId down : missed) {
        if (!host.up()) break;
        deliver_hint(r, down);
      }
    }
  }
  if (partition_until_ != 0 && now_ >= partition_until_) {
    partition_until_ = 0;
    network_.heal();
    trace("heal partition");
  }
}

void Simulation::heal() {
  network_.heal();
  partition_until_ = 0;
  NetworkFaults calm = plan_.network;
  calm.loss = 0;
  calm.duplicate = 0;
  network_.set_faults(calm);
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    if (!hosts_[r]->up()) restart_at_[r] = now_;
    resume_at_[r] = now_;
  }
  undo_due_faults();
  trace("heal everything");
}

void Simulation::check_agreement() {
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    const ReplicaHost& host = *hosts_[r];
    if (!host.up()) continue;
    const Replica& replica = host.replica();
    if (replica.status() == Status::recovering) continue;
    const OpNumber commit = replica.commit();
    result_.max_view = std::max(result_.max_view, replica.view().value());
    const journal::LogRing& log = replica.journal().log();
    // No two replicas commit different entries at one op; a committed entry never
    // changes (the first replica to commit an op fixes it for everyone).
    OpNumber from = std::max(checked_[r], replica.journal().checkpoint_op());
    for (OpNumber o = from.next(); o <= commit; o = o.next()) {
      const auto checksum = log.checksum_at(o);
      VSR_ASSERT(checksum.has_value());
      auto [it, inserted] = committed_.emplace(o, *checksum);
      if (!inserted && it->second != *checksum) {
        violation("agreement: replica " + std::to_string(r) + " committed a different entry at op " +
                  std::to_string(o.value()));
      }
    }
    checked_[r] = commit;
    result_.commits = std::max(result_.commits, commit.value());
    // Replicas that executed the same ops hold the same state.
    if (commit != digest_checked_[r]) {
      digest_checked_[r] = commit;
      const std::pair digests{host.store().digest(), replica.client_table().digest()};
      auto [it, inserted] = state_at_.emplace(commit, digests);
      if (!inserted && it->second != digests) {
        violation("agreement: replica " + std::to_string(r) + " has a different state after op " +
                  std::to_string(commit.value()));
      }
    }
  }
}

bool Simulation::converged() {
  for (auto& client : clients_) {
    if (client->busy()) return false;
  }
  std::optional<std::tuple<ViewNumber, OpNumber>> common;
  for (ReplicaId r = 0; r < plan_.replicas; ++r) {
    const ReplicaHost& host = *hosts_[r];
    if (!host.up() || host.paused) return false;
    const Replica& replica = host.replica();
    if (replica.status() != Status::normal || replica.commit() != replica.op()) return false;
    const auto mine = std::tuple{replica.view(), replica.op()};
    if (common && *common != mine) return false;
    common = mine;
  }
  return true;
}

void Simulation::check_linearizable() {
  check::Options check_options;
  check_options.timeout = options_.check_timeout;
  const check::CheckResult result = check::check(history_, check_options);
  if (result.verdict == check::Verdict::linearizable) return;
  std::ostringstream out;
  check::print_result(out, history_, result);
  violation("linearizability: " + out.str());
}

Result Simulation::run() {
  const std::uint64_t heal_at = plan_.active_ticks;
  const std::uint64_t stop_issuing_at = heal_at + 200;
  const std::uint64_t deadline = heal_at + kLivenessTicks;
  for (now_ = 1;; ++now_) {
    while (auto packet = network_.pop_due(now_)) deliver(*packet);
    tick_replicas();
    tick_clients(now_ < stop_issuing_at);
    undo_due_faults();
    if (now_ < heal_at) {
      if (now_ % plan_.fault_interval == 0) inject_faults();
    } else if (now_ == heal_at) {
      heal();
      for (auto& client : clients_) client->set_patient(true);
    }
    check_agreement();
    if (!result_.ok() && !options_.trace) break;
    if (now_ > stop_issuing_at && converged()) break;
    if (now_ >= deadline) {
      if (options_.power_loss_pages && lost_state() > plan_.config.f()) {
        result_.stalled_beyond_budget = true;
        trace("no convergence, with more than f replicas short of their state");
        break;
      }
      std::ostringstream why;
      why << "liveness: no convergence within " << kLivenessTicks << " ticks after healing;";
      for (ReplicaId r = 0; r < plan_.replicas; ++r) {
        const ReplicaHost& h = *hosts_[r];
        why << " r" << int(r) << "=";
        if (!h.up()) {
          why << "down";
          continue;
        }
        const Replica& x = h.replica();
        why << to_string(x.status()) << "/v" << x.view() << "/op" << x.op() << "/c" << x.commit();
      }
      for (auto& client : clients_) {
        if (client->busy()) why << " a client is still waiting since tick " << client->outstanding_since();
      }
      violation(why.str());
      break;
    }
  }
  result_.ticks = now_;
  result_.messages = network_.sent();
  for (auto& client : clients_) {
    result_.operations_ok += client->ok();
    result_.operations_indeterminate += client->indeterminate();
  }
  if (result_.ok()) check_linearizable();
  if (!options_.history_path.empty()) {
    std::ofstream out(options_.history_path);
    history_.write_native(out);
  }
  const std::uint64_t final_commit = result_.commits;
  hash(&final_commit, sizeof(final_commit));
  result_.trace_hash = trace_hash_.digest();
  return result_;
}

}  // namespace

Result run(const Options& options) {
  assert_handler = throw_invariant;
  try {
    return Simulation(options).run();
  } catch (const InvariantViolated& e) {
    // A replica crashed on a broken invariant: in the service the supervisor would
    // restart it, but here it is a bug, and this seed shows it.
    Result result;
    result.seed = options.seed;
    result.violations.push_back("invariant: " + e.what);
    return result;
  }
}

std::ostream& operator<<(std::ostream& out, const Result& r) {
  out << "seed " << r.seed << ": replicas=" << r.replicas << " ticks=" << r.ticks
      << " ops=" << r.operations_ok << " indeterminate=" << r.operations_indeterminate
      << " commits=" << r.commits << " max_view=" << r.max_view << " messages=" << r.messages
      << " crashes=" << r.faults.crashes << " torn=" << r.faults.torn_crashes
      << " wipes=" << r.faults.wipes << " pauses=" << r.faults.pauses
      << " partitions=" << r.faults.partitions << " flips=" << r.faults.bit_flips
      << " faulty=" << r.faults.faulty_entries << " repaired=" << r.faults.repairs
      << " recoveries=" << r.faults.recoveries << " power_losses=" << r.faults.power_losses
      << " power_cuts=" << r.faults.power_cuts << " hints=" << r.faults.hints
      << " false_hints=" << r.faults.false_hints
      << (r.stalled_beyond_budget ? " stalled_beyond_f" : "")
      << " background_sync=" << (r.background_sync ? "on" : "off")
      << " fanout=" << (r.fanout_all ? "all" : "quorum_first")
      << " durable_reports=" << r.durable_reports << " trace=" << std::hex << r.trace_hash
      << std::dec;
  for (const std::string& v : r.violations) out << "\n  VIOLATION " << v;
  return out;
}

}  // namespace vsr::sim
