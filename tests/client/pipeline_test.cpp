// The pipelined interface against a fake cluster: many operations over several sessions,
// one request per session at a time, retries that keep their request numbers under
// random loss, the queue bound, and waiting without burning CPU.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>

#include "tests/client/fake_cluster.h"
#include "vsr/client.h"

namespace vsr::client::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Options fast(const FakeCluster& cluster) { return fast_options(cluster, 5000ms); }

// Polls until nothing is outstanding (bounded by `limit`).
std::vector<Completion> drain(Pipeline& p, std::chrono::milliseconds limit = 20s) {
  std::vector<Completion> done;
  const auto end = Clock::now() + limit;
  while (p.outstanding() > 0 && Clock::now() < end)
    p.poll(done, 50ms);
  return done;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(Pipeline, ManyOperationsOverSessionsOneRequestPerSessionAtATime) {
  FakeCluster cluster("many");
  Options o = fast(cluster);
  o.attempt_timeout = 2000ms;  // so that every operation is sent exactly once
  Pipeline p(o, 8);
  ASSERT_EQ(p.connect().status, Status::ok);
  EXPECT_EQ(cluster.registrations(), 8u);
  std::set<Ticket> tickets;
  for (int i = 0; i < 500; ++i) {
    const auto t = p.submit(Op::put("k" + std::to_string(i), "v" + std::to_string(i)));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->value, static_cast<std::uint64_t>(i + 1)) << "tickets count from 1";
    tickets.insert(*t);
  }
  EXPECT_EQ(p.outstanding(), 500u);
  const auto done = drain(p);
  ASSERT_EQ(done.size(), 500u);
  EXPECT_EQ(p.outstanding(), 0u);
  std::set<Ticket> completed;
  for (const Completion& c : done) {
    EXPECT_EQ(c.result.status, Status::ok) << c.result.message;
    EXPECT_EQ(c.sends, 1u);
    EXPECT_GT(c.latency.count(), 0);
    completed.insert(c.ticket);
  }
  EXPECT_EQ(completed, tickets) << "every ticket completes exactly once";
  for (int i = 0; i < 500; i += 50) {
    EXPECT_EQ(cluster.value("k" + std::to_string(i)), "v" + std::to_string(i));
  }
  EXPECT_EQ(cluster.overlapping(), 0u) << "a session sent a request while one was in flight";
  std::set<std::uint64_t> sessions;
  for (const Received& r : cluster.operations())
    sessions.insert(r.session.value());
  EXPECT_EQ(sessions.size(), 8u) << "the load spreads over every session";
  EXPECT_EQ(cluster.registrations(), 8u);
}

TEST(Pipeline, RandomLossNeverChangesARequestNumberNorExecutesTwice) {
  FakeCluster cluster("loss");
  // Replica 0 is the primary. A fifth of all attempts are lost on the way in, another
  // fifth lose their reply after executing; backups redirect.
  auto random = std::make_shared<std::mt19937>(7);
  cluster.set_policy([random](std::uint32_t replica, const Request&, const std::vector<Received>&) {
    if (replica != 0) return Decision{Verdict::not_primary, 0};
    const auto roll = (*random)() % 10;
    if (roll < 2) return Decision{Verdict::drop, 0};
    if (roll < 4) return Decision{Verdict::drop_reply, 0};
    return Decision{};
  });
  Options o = fast(cluster);
  o.attempt_timeout = 10ms;
  Pipeline p(o, 6);
  constexpr int kOps = 240;
  for (int i = 0; i < kOps; ++i) {
    // Appends to a few keys: executing one twice would show in the value.
    ASSERT_TRUE(p.submit(Op::append("k" + std::to_string(i % 4), "<" + std::to_string(i) + ">")));
  }
  const auto done = drain(p);
  ASSERT_EQ(done.size(), static_cast<std::size_t>(kOps));
  std::uint32_t retried = 0;
  for (const Completion& c : done) {
    ASSERT_EQ(c.result.status, Status::ok) << c.result.message;
    retried += c.sends > 1 ? 1 : 0;
  }
  EXPECT_GT(retried, 20u) << "the loss should have forced retries";
  EXPECT_EQ(cluster.executions(), static_cast<std::uint64_t>(kOps)) << "each append executed once";
  std::size_t total = 0;
  for (int k = 0; k < 4; ++k)
    total += cluster.value("k" + std::to_string(k))->size();
  std::size_t expected = 0;
  for (int i = 0; i < kOps; ++i)
    expected += std::to_string(i).size() + 2;
  EXPECT_EQ(total, expected);
  // No operation went out under two request numbers, and numbers never went backwards.
  std::map<std::pair<std::uint64_t, Bytes>, std::set<std::uint64_t>> numbers;
  std::map<std::uint64_t, std::uint64_t> highest;
  for (const Received& r : cluster.operations()) {
    numbers[{r.session.value(), r.operation}].insert(r.request.value());
    EXPECT_GE(r.request.value(), highest[r.session.value()]);
    highest[r.session.value()] = r.request.value();
  }
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kOps));
  for (const auto& [op, requests] : numbers)
    EXPECT_EQ(requests.size(), 1u);
  EXPECT_EQ(cluster.overlapping(), 0u) << "a session moved on while its request was unanswered";
}

TEST(Pipeline, InvalidOperationsCompleteAtOnceWithoutSending) {
  FakeCluster cluster("invalid");
  Pipeline p(fast(cluster), 2);
  const auto bad = p.submit(Op::put("", "v"));
  const auto good = p.submit(Op::put("k", "v"));
  ASSERT_TRUE(bad && good);
  const auto done = drain(p);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].ticket, *bad) << "the refused one is reported first";
  EXPECT_EQ(done[0].result.status, Status::invalid_argument);
  EXPECT_EQ(done[0].sends, 0u);
  EXPECT_EQ(done[0].latency.count(), 0);
  EXPECT_EQ(done[1].result.status, Status::ok);
  EXPECT_EQ(cluster.operations().size(), 1u);
}

TEST(Pipeline, QueueIsBounded) {
  Options o;
  o.cluster = "tc-no-such-cluster";
  o.queue_max = 3;
  Pipeline p(o, 1);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(p.submit(Op::get("k")).has_value());
  EXPECT_FALSE(p.submit(Op::get("k")).has_value()) << "queue_max operations already wait";
  EXPECT_EQ(p.outstanding(), 3u);
}

TEST(Pipeline, NoClusterCompletesEverythingUnavailable) {
  Options o;
  o.cluster = "tc-no-such-cluster";
  Pipeline p(o, 4);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(p.submit(Op::get("k")));
  const auto done = drain(p, 2s);
  ASSERT_EQ(done.size(), 10u);
  for (const Completion& c : done) {
    EXPECT_EQ(c.result.status, Status::unavailable);
    EXPECT_EQ(c.sends, 0u);
  }
  EXPECT_EQ(p.connect().status, Status::unavailable);
}

TEST(Pipeline, PollWithNothingOutstandingReturnsAtOnce) {
  FakeCluster cluster("idle");
  Pipeline p(fast(cluster), 2);
  std::vector<Completion> done;
  const auto start = Clock::now();
  EXPECT_EQ(p.poll(done, 5s), 0u);
  EXPECT_LT(Clock::now() - start, 100ms);
}

TEST(Pipeline, WaitingSleepsOnTheDoorbell) {
  FakeCluster cluster("sleep");
  cluster.set_policy([](std::uint32_t, const Request& request, const std::vector<Received>&) {
    return request.session.value() == 0 ? Decision{} : Decision{Verdict::drop, 0};
  });
  Options o = fast(cluster);
  o.attempt_timeout = 2000ms;
  Pipeline p(o, 1);
  ASSERT_EQ(p.connect().status, Status::ok);
  ASSERT_TRUE(p.submit(Op::get("k")));
  std::vector<Completion> done;
  const double cpu_before = thread_cpu_seconds();
  const auto start = Clock::now();
  EXPECT_EQ(p.poll(done, 300ms), 0u);
  const auto waited = Clock::now() - start;
  const double cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 1s);
  EXPECT_LT(cpu, 0.05) << "waiting 300 ms for a reply cost " << cpu << " s of CPU";
}

TEST(Pipeline, PerOperationTimeoutsAndQueuedExpiry) {
  FakeCluster cluster("expiry");
  cluster.set_policy([](std::uint32_t, const Request& request, const std::vector<Received>&) {
    return request.session.value() == 0 ? Decision{} : Decision{Verdict::drop, 0};
  });
  Pipeline p(fast(cluster), 1);
  ASSERT_EQ(p.connect().status, Status::ok);
  const auto sent = p.submit(Op::get("a"), 100ms);
  const auto queued = p.submit(Op::get("b"), 50ms);  // waits behind `sent` for the session
  ASSERT_TRUE(sent && queued);
  const auto done = drain(p, 2s);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].ticket, *queued);
  EXPECT_EQ(done[0].result.status, Status::unavailable) << "never sent: definite";
  EXPECT_EQ(done[0].sends, 0u);
  EXPECT_EQ(done[1].ticket, *sent);
  EXPECT_EQ(done[1].result.status, Status::timed_out);
}

TEST(Pipeline, SteadyLoadFindsAClusterStartedAgain) {
  Options o;
  o.timeout = 200ms;
  o.attempt_timeout = 30ms;
  o.heartbeat_fresh = 100ms;
  auto cluster = std::make_unique<FakeCluster>("restart-load");
  cluster->publish_board(0, process::Role::primary, vsr::Status::normal, 0);
  o.cluster = cluster->name();
  Pipeline p(o, 4);
  std::map<Status, int> seen;
  int submitted = 0;
  // Eight outstanding over four sessions until `ok` reaches `target` (or the time runs out).
  auto run_until = [&](int target, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    std::vector<Completion> done;
    while (seen[Status::ok] < target && Clock::now() < end) {
      while (p.outstanding() < 8) {  // more than the sessions: some always wait
        ASSERT_TRUE(p.submit(Op::put("k" + std::to_string(submitted % 7), "v")));
        ++submitted;
      }
      done.clear();
      p.poll(done, 20ms);
      for (const Completion& c : done)
        ++seen[c.result.status];
    }
  };
  run_until(50, 5s);
  ASSERT_GE(seen[Status::ok], 50);
  const int ok_before = seen[Status::ok];
  cluster.reset();
  run_until(ok_before + 1000, 500ms);  // nobody answers now
  EXPECT_GT(seen[Status::timed_out], 0);
  cluster = std::make_unique<FakeCluster>(ExactName{o.cluster});
  run_until(ok_before + 50, 10s);
  EXPECT_GE(seen[Status::ok], ok_before + 50) << "the pipeline never found the new cluster";
  for (const auto& [status, count] : seen) {
    EXPECT_TRUE(status == Status::ok || status == Status::timed_out ||
                status == Status::session_evicted || status == Status::unavailable)
        << to_string(status) << " x" << count;
  }
}

// The primary dies with requests in flight: when the boards name a new primary, what
// was in flight goes there at once, not after attempt_timeout. With the watch off, the
// same run waits out the attempt (the teeth of this test).
std::chrono::nanoseconds failover_latency(std::chrono::milliseconds watch) {
  FakeCluster cluster("watch-primary");
  cluster.publish_board(0, process::Role::primary, vsr::Status::normal, 0);
  Options o = fast(cluster);
  o.attempt_timeout = 1000ms;
  o.primary_watch = watch;
  Pipeline p(o, 4);
  EXPECT_EQ(p.connect().status, Status::ok);
  // Replica 0 goes silent; replica 1 leads view 1.
  cluster.set_policy([](std::uint32_t replica, const Request&, const std::vector<Received>&) {
    return replica == 1 ? Decision{} : Decision{Verdict::drop, 0};
  });
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(p.submit(Op::put("k" + std::to_string(i), "v")));
  std::vector<Completion> done;
  p.poll(done, 30ms);  // sent to replica 0, unanswered
  EXPECT_TRUE(done.empty());
  cluster.publish_board(1, process::Role::primary, vsr::Status::normal, 1);
  const auto more = drain(p);
  done.insert(done.end(), more.begin(), more.end());
  EXPECT_EQ(done.size(), 4u);
  std::chrono::nanoseconds slowest{0};
  for (const Completion& c : done) {
    EXPECT_EQ(c.result.status, Status::ok);
    EXPECT_EQ(c.sends, 2u) << "once to the old primary, once to the new";
    slowest = std::max(slowest, c.latency);
  }
  EXPECT_EQ(cluster.executions(), 4u);
  return slowest;
}

TEST(Pipeline, InFlightOperationsFollowANewPrimaryOnTheBoards) {
  EXPECT_LT(failover_latency(1ms), 500ms);
  EXPECT_GE(failover_latency(0ms), 1000ms) << "without the watch, only the attempt timeout moves it";
}

TEST(Pipeline, ConnectRegistersLazilyToo) {
  FakeCluster cluster("lazy");
  Pipeline p(fast(cluster), 4);
  ASSERT_TRUE(p.submit(Op::put("k", "v")));
  const auto done = drain(p);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.status, Status::ok);
  EXPECT_EQ(done[0].sends, 1u) << "the registration before it is not one of its sends";
  EXPECT_EQ(cluster.registrations(), 1u) << "only the session the operation needed";
  ASSERT_EQ(p.connect().status, Status::ok);
  EXPECT_EQ(cluster.registrations(), 4u) << "connect() registers the rest";
}

}  // namespace
}  // namespace vsr::client::test
