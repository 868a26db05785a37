#include "tests/client/fake_cluster.h"

#include <unistd.h>

#include <chrono>

#include "common/assert.h"
#include "replica/core/codec.h"
#include "replica/core/kv_operation.h"

namespace vsr::client::test {

namespace {

std::string unique_name(const char* tag) {
  static std::atomic<int> counter{0};
  return std::string("tc-") + tag + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

FakeCluster::FakeCluster(const char* tag, std::uint32_t replicas, std::uint32_t slots,
                         std::size_t table_capacity)
    : FakeCluster(ExactName{unique_name(tag)}, replicas, slots, table_capacity) {}

FakeCluster::FakeCluster(ExactName name, std::uint32_t replicas, std::uint32_t slots,
                         std::size_t table_capacity)
    : name_(std::move(name.name)),
      replica_count_(replicas),
      segment_(shm::Segment::create(shm::SegmentConfig{name_, replicas, slots, 0, 0})),
      policy_(primary_is(0)),
      table_(table_capacity) {
  ports_.reserve(replicas);
  for (std::uint32_t r = 0; r < replicas; ++r)
    ports_.emplace_back(segment_, r);
  // Each port is used only by its thread from here on.
  for (std::uint32_t r = 0; r < replicas; ++r)
    threads_.emplace_back([this, r] { run(r); });
}

FakeCluster::~FakeCluster() {
  stop_.store(true);
  for (std::thread& t : threads_)
    t.join();
  ports_.clear();
  shm::Segment::remove(name_);
}

Policy FakeCluster::primary_is(std::uint32_t primary) {
  return [primary](std::uint32_t replica, const Request&, const std::vector<Received>&) {
    if (replica == primary) return Decision{};
    return Decision{Verdict::not_primary, primary};
  };
}

void FakeCluster::set_policy(Policy policy) {
  std::lock_guard lock(mutex_);
  policy_ = std::move(policy);
}

std::vector<Received> FakeCluster::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<Received> FakeCluster::operations() const {
  std::vector<Received> out;
  for (Received& r : received()) {
    if (!r.registration()) out.push_back(std::move(r));
  }
  return out;
}

std::size_t FakeCluster::registrations() const {
  std::size_t count = 0;
  for (const Received& r : received())
    count += r.registration() ? 1 : 0;
  return count;
}

std::optional<std::string> FakeCluster::value(const std::string& key) const {
  std::lock_guard lock(mutex_);
  // Store::execute is not const: read through a copy made from a snapshot.
  kv::Store copy;
  Bytes snapshot;
  store_.snapshot(snapshot);
  const bool restored = copy.restore(snapshot);
  VSR_ASSERT(restored);
  return copy.execute(kv::Operation{kv::OpKind::get, key, {}, {}}).value;
}

std::uint64_t FakeCluster::executions() const {
  std::lock_guard lock(mutex_);
  return executions_;
}

std::uint64_t FakeCluster::overlapping() const {
  std::lock_guard lock(mutex_);
  return overlapping_;
}

void FakeCluster::publish_board(std::uint32_t replica, process::Role role, vsr::Status status,
                                std::uint64_t view) {
  shm::StatusUpdate u;
  u.pid = static_cast<std::uint64_t>(::getpid());
  u.role = static_cast<std::uint32_t>(role);
  u.status = static_cast<std::uint32_t>(status);
  u.view = view;
  segment_.status(replica).publish(u);
}

void FakeCluster::run(std::uint32_t replica) {
  shm::ReplicaPort& port = ports_[replica];
  Bytes encoded;
  while (!stop_.load()) {
    port.poll([&](shm::Endpoint from, std::uint16_t kind, ByteView body) {
      if (!from.is_client() || kind != static_cast<std::uint16_t>(MessageKind::request)) return;
      const auto request = decode_request(body);
      if (!request) return;
      const auto reply = handle(replica, from, *request);
      if (!reply) return;
      encoded.clear();
      encode(*reply, encoded);
      port.send(from, static_cast<std::uint16_t>(MessageKind::reply), encoded);
    });
    port.flush();
    // Bounded, so that the destructor's stop flag is seen soon.
    port.wait(std::chrono::milliseconds(2));
  }
}

std::optional<Reply> FakeCluster::handle(std::uint32_t replica, shm::Endpoint from,
                                         const Request& request) {
  std::lock_guard lock(mutex_);
  const Decision decision = policy_(replica, request, received_);
  received_.push_back(Received{replica, from.index, from.generation, request.session,
                               request.request, request.operation, decision.verdict});
  if (request.session.value() != 0) {
    const auto answered = answered_.find(request.session.value());
    const std::uint64_t last = answered == answered_.end() ? 0 : answered->second;
    // An earlier request of this session that was never answered: the client sent this
    // one while that one was still in flight. (A retry of the same number is fine.)
    for (const Received& r : received_) {
      if (r.session == request.session && r.request.value() > last && r.request < request.request) {
        ++overlapping_;
        break;
      }
    }
  }
  Reply refusal{
      ViewNumber(decision.view), request.session, request.request, ReplyStatus::not_primary, {}};
  // Answers that end the request for the client (not refusals it retries).
  const auto answered = [&] {
    if (request.session.value() == 0) return;
    std::uint64_t& last = answered_[request.session.value()];
    last = std::max(last, request.request.value());
  };
  switch (decision.verdict) {
    case Verdict::answer: {
      auto reply = execute(request);
      if (reply) answered();
      return reply;
    }
    case Verdict::drop:
      return std::nullopt;
    case Verdict::drop_reply:
      execute(request);
      return std::nullopt;
    case Verdict::not_primary:
      return refusal;
    case Verdict::busy:
      refusal.status = ReplyStatus::busy;
      return refusal;
    case Verdict::evict:
      refusal.status = ReplyStatus::session_evicted;
      answered();
      return refusal;
    case Verdict::invalid:
      refusal.status = ReplyStatus::invalid;
      answered();
      return refusal;
  }
  return std::nullopt;
}

// What the primary's core does with a request (replica/core/normal.cpp), in one step.
std::optional<Reply> FakeCluster::execute(const Request& request) {
  Reply reply{ViewNumber(0), request.session, request.request, ReplyStatus::ok, {}};
  if (request.session.value() == 0) {
    if (!request.operation.empty()) {
      reply.status = ReplyStatus::invalid;
      return reply;
    }
    reply.session = table_.register_session();
    Writer(reply.result).put(reply.session.value());
    return reply;
  }
  const ClientTable::Session* session = table_.find(request.session);
  if (session == nullptr) {
    reply.status = ReplyStatus::session_evicted;
    return reply;
  }
  if (request.request < session->request) return std::nullopt;
  if (request.request == session->request) {
    reply.result = session->result;
  } else {
    const auto op = kv::decode_operation(request.operation);
    if (!op) {
      reply.status = ReplyStatus::invalid;
      return reply;
    }
    kv::encode(store_.execute(*op), reply.result);
    table_.record(request.session, request.request, reply.result);
    ++executions_;
  }
  return reply;
}

Options fast_options(const FakeCluster& cluster, std::chrono::milliseconds timeout) {
  Options o;
  o.cluster = cluster.name();
  o.timeout = timeout;
  o.attempt_timeout = std::chrono::milliseconds(30);
  return o;
}

}  // namespace vsr::client::test
