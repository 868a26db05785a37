#include "tests/core/harness.h"

#include <cstdlib>
#include <string>

#include "common/assert.h"

namespace vsr::test {

ReplicaConfig test_config(std::uint32_t replicas, ReplicaId self) {
  ReplicaConfig c;
  c.cluster = kCluster;
  c.self = self;
  c.replica_count = replicas;
  c.heartbeat_ticks = 5;
  c.view_change_timeout_ticks = 30;
  c.prepare_retry_ticks = 10;
  c.gap_wait_ticks = 4;
  c.retry_ticks = 10;
  c.pipeline_max = 4;
  c.batch_max_requests = 8;
  c.batch_max_bytes = 48 * 1024;
  c.checkpoint_interval = 1000;
  c.client_table_capacity = 4;
  c.seed = 1;
#ifdef VSR_TEST_BUGS
  // The teeth tests run these scenarios again with one review bug put back.
  const char* bug = std::getenv("VSR_TEST_BUG");
  const std::string name = bug ? bug : "";
  c.bugs.ack_conflicting_entry = name == "ack-conflicting-entry";
  c.bugs.quorum_from_connected = name == "quorum-from-connected";
  c.bugs.early_last_normal_view = name == "early-last-normal-view";
  c.bugs.unstable_primary_order = name == "unstable-primary-order";
#endif
  return c;
}

journal::Geometry test_geometry() { return journal::Geometry{256, 4 * 5 * 48 * 1024}; }

Bytes put_operation(const std::string& key, const std::string& value) {
  Bytes out;
  kv::encode(kv::Operation{kv::OpKind::put, key, value, {}}, out);
  return out;
}

Bytes batch_of(SessionId session, RequestNumber request, const Bytes& operation) {
  Bytes body;
  BatchWriter batch(body);
  batch.add(session, request, operation);
  return body;
}

Node::Node(const ReplicaConfig& c, const journal::Geometry& g)
    : config(c),
      geometry(g),
      superblock(journal::kSuperblockRegionSize),
      log(journal::log_region_size(g)),
      journal(superblock, log, snapshots,
              journal::Identity{c.cluster, c.self, static_cast<std::uint8_t>(c.replica_count)},
              g) {
  journal.format(/*trustworthy=*/true);
}

Entry Node::seed(ViewNumber view, const Bytes& body) {
  Entry e;
  e.header.cluster = config.cluster;
  e.header.view = view;
  e.header.op = journal.log().head().next();
  e.header.parent = journal.log().head_checksum();
  e.header.seal(body);
  e.body = body;
  journal.append(e.header, e.body);
  return e;
}

Entry Node::seed_entry(ViewNumber view, std::uint64_t salt) {
  Bytes body;
  BatchWriter batch(body);
  batch.add(SessionId(0), RequestNumber(journal.log().head().value() * 1000 + salt + 1), {});
  return seed(view, body);
}

void Node::seed_view(ViewNumber view, ViewNumber last_normal_view) {
  journal.persist_view(view, last_normal_view, OpNumber(0));
}

void Node::boot(std::uint64_t nonce) {
  const auto opened = journal.open();
  Boot boot;
  if (opened.status == journal::Journal::OpenStatus::ok) {
    boot.kind = Boot::Kind::restart;
    boot.checkpoint_state = opened.checkpoint_state;
  } else {
    superblock.wipe();
    log.wipe();
    snapshots.clear();
    journal.format(false);
    boot.kind = Boot::Kind::recover;
    boot.nonce = nonce;
  }
  store = kv::Store();
  replica = std::make_unique<Replica>(config, journal, store, boot);
}

void Node::wipe_and_boot(std::uint64_t nonce) {
  replica.reset();
  superblock.wipe();
  log.wipe();
  snapshots.clear();
  boot(nonce);
}

void Node::restart_with_faulty_entry(OpNumber op) {
  crash();
  const auto entry = journal.log().entry(op);
  VSR_ASSERT_MSG(entry.has_value(), "no sound entry at that op to make faulty");
  const auto at = static_cast<std::size_t>(entry->body.data() - log.bytes().data());
  log.mutable_bytes()[at] ^= std::byte{0x10};
  boot();
}

Output Node::take() {
  Output out = std::move(replica->output());
  replica->output().clear();
  return out;
}

Harness::Harness(std::uint32_t replicas, const std::function<void(ReplicaConfig&)>& tweak) {
  for (ReplicaId id = 0; id < replicas; ++id) {
    ReplicaConfig c = test_config(replicas, id);
    if (tweak) tweak(c);
    nodes_.push_back(std::make_unique<Node>(c, test_geometry()));
  }
}

void Harness::boot_all() {
  for (auto& n : nodes_) n->boot();
  collect();
}

void Harness::collect() {
  for (auto& n : nodes_) {
    if (!n->replica) continue;
    Output out = n->take();
    for (Envelope& e : out.messages) {
      if (e.to) {
        in_flight_.push_back(Sent{n->config.self, *e.to, e.message});
      } else {
        for (ReplicaId to = 0; to < size(); ++to) {
          if (to != n->config.self) in_flight_.push_back(Sent{n->config.self, to, e.message});
        }
      }
    }
    for (ClientReply& reply : out.replies) replies_.push_back(std::move(reply));
  }
}

void Harness::deliver(const Sent& sent) {
  Node& n = node(sent.to);
  if (!n.replica) return;
  n.r().step(sent.message);
  n.r().flush();
}

std::size_t Harness::run(const std::function<bool(const Sent&)>& keep) {
  std::size_t delivered = 0;
  for (int round = 0; round < 1000 && !in_flight_.empty(); ++round) {
    std::vector<Sent> batch;
    batch.swap(in_flight_);
    for (const Sent& s : batch) {
      if (keep && !keep(s)) continue;
      deliver(s);
      ++delivered;
    }
    collect();
  }
  VSR_ASSERT_MSG(in_flight_.empty(), "messages kept flowing for 1000 rounds");
  return delivered;
}

void Harness::tick(ReplicaId id, std::uint32_t ticks) {
  for (std::uint32_t i = 0; i < ticks; ++i) {
    r(id).tick();
    r(id).flush();
  }
  collect();
}

void Harness::tick_all(std::uint32_t ticks) {
  for (std::uint32_t i = 0; i < ticks; ++i) {
    for (auto& n : nodes_) {
      if (!n->replica) continue;
      n->r().tick();
      n->r().flush();
    }
  }
  collect();
}

void Harness::request(ReplicaId to, ClientId client, const Request& request) {
  r(to).on_request(client, request);
  r(to).flush();
  collect();
}

SessionId Harness::register_session(ReplicaId primary, ClientId client, std::uint64_t nonce) {
  request(primary, client, Request{SessionId(0), RequestNumber(nonce), {}});
  run();
  for (const ClientReply& reply : replies_) {
    if (reply.client == client && reply.reply.request.value() == nonce &&
        reply.reply.status == ReplyStatus::ok) {
      Reader r(reply.reply.result);
      return SessionId(r.get<std::uint64_t>());
    }
  }
  VSR_ASSERT_MSG(false, "registration got no reply");
}

void register_some(Harness& h, ReplicaId primary, std::uint64_t count, std::uint64_t first) {
  for (std::uint64_t nonce = first; nonce < first + count; ++nonce) {
    h.request(primary, 100, Request{SessionId(0), RequestNumber(nonce), {}});
    h.run();
  }
}

void heartbeat(Harness& h, ReplicaId primary) {
  h.tick(primary, h.node(primary).config.heartbeat_ticks);
  h.run();
}

void tick_until_view_change(Harness& h, ReplicaId id) {
  const ViewNumber view = h.r(id).view();
  for (int i = 0; i < 1000 && h.r(id).view() == view; ++i)
    h.tick(id);
}

}  // namespace vsr::test
