// The blocking Client against a fake cluster: typed results, redirects, retries with the
// same request number, busy pauses, eviction, status-board hints, and no cluster at all.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "tests/client/fake_cluster.h"
#include "vsr/client.h"

namespace vsr::client::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Options fast(const FakeCluster& cluster) { return fast_options(cluster, 2000ms); }

// Every operation frame of one session and one payload carries one request number: a
// retry is the same request, never a new one.
void expect_one_request_number_per_operation(const std::vector<Received>& ops) {
  std::map<std::pair<std::uint64_t, Bytes>, std::set<std::uint64_t>> numbers;
  for (const Received& r : ops)
    numbers[{r.session.value(), r.operation}].insert(r.request.value());
  for (const auto& [op, requests] : numbers) {
    EXPECT_EQ(requests.size(), 1u) << "session " << op.first << " sent one operation under "
                                   << requests.size() << " request numbers";
  }
}

TEST(Client, PutGetDelRoundTrip) {
  FakeCluster cluster("roundtrip");
  Client kv(fast(cluster));
  EXPECT_EQ(kv.put("k", "v1").status, Status::ok);
  Result r = kv.get("k");
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_EQ(r.value, "v1");
  EXPECT_TRUE(r.message.empty());
  EXPECT_EQ(kv.del("k").status, Status::ok);
  r = kv.get("k");
  EXPECT_EQ(r.status, Status::not_found);
  EXPECT_FALSE(r.value.has_value());
  EXPECT_FALSE(r.indeterminate());
  EXPECT_EQ(kv.del("k").status, Status::not_found);
  EXPECT_EQ(cluster.registrations(), 1u);
  EXPECT_EQ(cluster.executions(), 5u);
}

TEST(Client, CasAndAppendResults) {
  FakeCluster cluster("cas");
  Client kv(fast(cluster));
  Result r = kv.cas("k", "old", "new");
  EXPECT_EQ(r.status, Status::cas_mismatch);
  EXPECT_FALSE(r.value.has_value()) << "absent key: no current value";
  ASSERT_EQ(kv.put("k", "x").status, Status::ok);
  r = kv.cas("k", "old", "new");
  EXPECT_EQ(r.status, Status::cas_mismatch);
  EXPECT_EQ(r.value, "x") << "the current value comes back with a mismatch";
  EXPECT_EQ(kv.cas("k", "x", "y").status, Status::ok);
  EXPECT_EQ(kv.append("k", "z").status, Status::ok);
  EXPECT_EQ(kv.get("k").value, "yz");
  // The store refuses an append past the value limit: definite, not executed.
  ASSERT_EQ(kv.put("big", std::string(kMaxValueBytes, 'b')).status, Status::ok);
  r = kv.append("big", "b");
  EXPECT_EQ(r.status, Status::too_large);
  EXPECT_FALSE(r.indeterminate());
  EXPECT_EQ(cluster.value("big")->size(), kMaxValueBytes);
}

TEST(Client, ValuesAreBytes) {
  FakeCluster cluster("bytes");
  Client kv(fast(cluster));
  const std::string key("k\0\xff", 3);
  const std::string value("\0\n\x80 binary", 10);
  ASSERT_EQ(kv.put(key, value).status, Status::ok);
  EXPECT_EQ(kv.get(key).value, value);
  EXPECT_EQ(kv.put(std::string(kMaxKeyBytes, 'k'), std::string(kMaxValueBytes, 'v')).status,
            Status::ok)
      << "the largest key and value are allowed";
}

TEST(Client, BadSizesAreRefusedBeforeAnythingIsSent) {
  FakeCluster cluster("sizes");
  Client kv(fast(cluster));
  const std::string long_key(kMaxKeyBytes + 1, 'k');
  const std::string long_value(kMaxValueBytes + 1, 'v');
  for (const Result& r :
       {kv.get(""), kv.get(long_key), kv.put("k", long_value), kv.append("k", long_value),
        kv.cas("k", long_value, "v"), kv.cas("k", "v", long_value), kv.del(long_key)}) {
    EXPECT_EQ(r.status, Status::invalid_argument);
    EXPECT_NE(r.message.find("nothing was sent"), std::string::npos) << r.message;
  }
  EXPECT_NE(kv.get(long_key).message.find("257 bytes"), std::string::npos);
  EXPECT_EQ(kv.get("k", 0ms).status, Status::invalid_argument) << "a zero timeout is refused";
  EXPECT_TRUE(cluster.received().empty()) << "not even a registration";
  // Argument checks come before attaching: no cluster is needed to get them.
  Client nowhere(Options{.cluster = "tc-no-such-cluster"});
  EXPECT_EQ(nowhere.put("", "v").status, Status::invalid_argument);
}

TEST(Client, NoClusterIsUnavailable) {
  Client kv(Options{.cluster = "tc-no-such-cluster-" + std::to_string(::getpid())});
  const auto start = Clock::now();
  const Result r = kv.put("k", "v");
  EXPECT_EQ(r.status, Status::unavailable);
  EXPECT_FALSE(r.indeterminate()) << "nothing was sent";
  EXPECT_NE(r.message.find("no cluster"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("not sent"), std::string::npos) << r.message;
  EXPECT_LT(Clock::now() - start, 1s) << "no waiting for a cluster that does not exist";
  EXPECT_EQ(kv.connect().status, Status::unavailable);
}

TEST(Client, NoFreeSlotIsUnavailable) {
  FakeCluster cluster("slots", 3, 1);
  Client first(fast(cluster));
  ASSERT_EQ(first.connect().status, Status::ok);
  Client second(fast(cluster));
  const Result r = second.get("k");
  EXPECT_EQ(r.status, Status::unavailable);
  EXPECT_NE(r.message.find("client slots"), std::string::npos) << r.message;
  // The slot comes back when its holder goes.
  first = Client(fast(cluster));
  EXPECT_EQ(second.get("k").status, Status::not_found);
}

TEST(Client, BadOptionsThrow) {
  EXPECT_THROW(Client(Options{.cluster = "no spaces"}), std::invalid_argument);
  EXPECT_THROW(Client(Options{.cluster = "x", .timeout = 0ms}), std::invalid_argument);
  Options o;
  o.attempt_timeout = o.timeout + 1ms;
  EXPECT_THROW(Client{o}, std::invalid_argument);
  EXPECT_THROW(Pipeline(Options{}, 0), std::invalid_argument);
  EXPECT_THROW(Pipeline(Options{}, kMaxSessions + 1), std::invalid_argument);
}

TEST(Client, RegistrationEchoesTheNonce) {
  FakeCluster cluster("register");
  Client kv(fast(cluster));
  ASSERT_EQ(kv.connect().status, Status::ok);
  const auto received = cluster.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0].registration());
  EXPECT_TRUE(received[0].operation.empty());
  EXPECT_NE(received[0].request.value(), 0u) << "the nonce";
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  EXPECT_EQ(cluster.registrations(), 1u) << "connect() registered the session already";
}

TEST(Client, RequestNumbersCountUpWithinASession) {
  FakeCluster cluster("numbers");
  Client kv(fast(cluster));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(kv.put("k" + std::to_string(i), "v").status, Status::ok);
  const auto ops = cluster.operations();
  ASSERT_EQ(ops.size(), 5u);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(ops[i].request.value(), i + 1);
    EXPECT_EQ(ops[i].session, ops[0].session);
  }
}

TEST(Client, FollowsNotPrimaryToPrimaryOfTheView) {
  FakeCluster cluster("redirect");
  cluster.set_policy(FakeCluster::primary_is(2));
  Options o = fast(cluster);
  o.attempt_timeout = 1000ms;  // a redirect must not wait for an attempt timeout
  Client kv(o);
  const auto start = Clock::now();
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  EXPECT_LT(Clock::now() - start, 500ms);
  const auto received = cluster.received();
  // Registration: 0 refuses naming view 2, then 2. The operation goes to 2 directly.
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].replica, 0u);
  EXPECT_EQ(received[1].replica, 2u);
  EXPECT_EQ(received[0].request, received[1].request) << "the same nonce, resent";
  EXPECT_EQ(received[2].replica, 2u);
  // A view change moves the primary: view 4 of 3 replicas is replica 1.
  cluster.set_policy(FakeCluster::primary_is(1));
  ASSERT_EQ(kv.put("k", "w").status, Status::ok);
  const auto ops = cluster.operations();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[1].replica, 2u);
  EXPECT_EQ(ops[2].replica, 1u);
  EXPECT_EQ(ops[1].request, ops[2].request);
}

TEST(Client, LostReplyIsRetriedAtTheNextReplicaWithTheSameRequestNumber) {
  FakeCluster cluster("lost-reply");
  // The primary executes the first attempt but its reply is lost. The client times the
  // attempt out and resends to replica 1, which redirects to 0; 0 must recognise the
  // retry and resend the cached result instead of appending a second time.
  cluster.set_policy(
      [](std::uint32_t replica, const Request& request, const std::vector<Received>& earlier) {
        if (replica != 0) return Decision{Verdict::not_primary, 0};
        const bool first = std::none_of(earlier.begin(), earlier.end(), [&](const Received& r) {
          return r.session == request.session && r.request == request.request;
        });
        if (request.session.value() != 0 && first) return Decision{Verdict::drop_reply, 0};
        return Decision{};
      });
  Options o = fast(cluster);
  o.attempt_timeout = 100ms;
  Client kv(o);
  ASSERT_EQ(kv.append("k", "x").status, Status::ok);
  EXPECT_EQ(cluster.value("k"), "x") << "the retry executed the append a second time";
  EXPECT_EQ(cluster.executions(), 1u);
  const auto ops = cluster.operations();
  ASSERT_GE(ops.size(), 3u);
  EXPECT_EQ(ops[0].replica, 0u);
  EXPECT_EQ(ops[1].replica, 1u) << "the retry goes to the next replica";
  EXPECT_EQ(ops[2].replica, 0u) << "and follows its redirect";
  for (const Received& r : ops) {
    EXPECT_EQ(r.request, ops[0].request) << "a retry must carry the same request number";
    EXPECT_EQ(r.session, ops[0].session);
  }
}

TEST(Client, DroppedRequestsRotateThroughTheReplicasThenTimeOut) {
  FakeCluster cluster("drops");
  cluster.set_policy([](std::uint32_t, const Request& request, const std::vector<Received>&) {
    if (request.session.value() == 0) return Decision{};
    return Decision{Verdict::drop, 0};
  });
  Options o = fast(cluster);
  o.timeout = 200ms;
  o.attempt_timeout = 20ms;
  Client kv(o);
  const auto start = Clock::now();
  const Result r = kv.put("k", "v");
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.status, Status::timed_out);
  EXPECT_TRUE(r.indeterminate());
  EXPECT_NE(r.message.find("may or may not have happened"), std::string::npos) << r.message;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 2s);
  const auto ops = cluster.operations();
  ASSERT_GE(ops.size(), 3u) << "every replica is tried";
  EXPECT_LE(ops.size(), 12u) << "one send per attempt timeout, no more";
  for (std::size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(ops[i].replica, (ops[0].replica + i) % 3) << "round robin";
    EXPECT_EQ(ops[i].request, ops[0].request);
  }
  // The session carries on with the next number: the old request can no longer execute
  // after this one.
  cluster.set_policy(FakeCluster::primary_is(0));
  ASSERT_EQ(kv.put("k", "w").status, Status::ok);
  const auto after = cluster.operations();
  EXPECT_EQ(after.back().request.value(), ops[0].request.value() + 1);
  EXPECT_EQ(cluster.value("k"), "w");
  expect_one_request_number_per_operation(after);
}

TEST(Client, BusyIsRetriedAfterGrowingPauses) {
  FakeCluster cluster("busy");
  // Busy three times, then the answer.
  cluster.set_policy(
      [](std::uint32_t, const Request& request, const std::vector<Received>& earlier) {
        if (request.session.value() == 0) return Decision{};
        const auto tries = std::count_if(earlier.begin(), earlier.end(), [&](const Received& r) {
          return r.session == request.session && r.request == request.request;
        });
        return tries < 3 ? Decision{Verdict::busy, 0} : Decision{};
      });
  Options o = fast(cluster);
  o.attempt_timeout = 1000ms;
  o.busy_pause = 4ms;
  o.busy_pause_max = 10ms;
  Client kv(o);
  ASSERT_EQ(kv.connect().status, Status::ok);
  const auto start = Clock::now();
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 4ms + 8ms + 10ms) << "pauses of 4, 8 and (capped) 10 ms";
  EXPECT_LT(elapsed, 500ms) << "a pause, not an attempt timeout";
  const auto ops = cluster.operations();
  ASSERT_EQ(ops.size(), 4u);
  for (const Received& r : ops) {
    EXPECT_EQ(r.replica, 0u) << "busy is retried at the same replica";
    EXPECT_EQ(r.request, ops[0].request);
  }
  EXPECT_EQ(cluster.executions(), 1u);
}

TEST(Client, NotPrimaryNamingItselfPausesInsteadOfFlooding) {
  FakeCluster cluster("between-views");
  // Replica 0 is the primary-to-be of view 3 and not yet normal: it names itself.
  cluster.set_policy(
      [](std::uint32_t, const Request& request, const std::vector<Received>& earlier) {
        if (request.session.value() == 0 || earlier.size() > 4) return Decision{};
        return Decision{Verdict::not_primary, 3};
      });
  Options o = fast(cluster);
  o.attempt_timeout = 1000ms;
  Client kv(o);
  ASSERT_EQ(kv.connect().status, Status::ok);
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  const auto ops = cluster.operations();
  EXPECT_LE(ops.size(), 6u);
  for (const Received& r : ops)
    EXPECT_EQ(r.replica, 0u);
}

TEST(Client, SessionEvictedIsIndeterminateAndTheNextOperationRegistersAgain) {
  FakeCluster cluster("evicted");
  Client kv(fast(cluster));
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  cluster.set_policy([](std::uint32_t, const Request& request, const std::vector<Received>&) {
    return request.session.value() == 0 ? Decision{} : Decision{Verdict::evict, 0};
  });
  const Result r = kv.put("k", "w");
  EXPECT_EQ(r.status, Status::session_evicted);
  EXPECT_TRUE(r.indeterminate());
  EXPECT_NE(r.message.find("may or may not have happened"), std::string::npos) << r.message;
  cluster.set_policy(FakeCluster::primary_is(0));
  ASSERT_EQ(kv.put("k", "x").status, Status::ok);
  EXPECT_EQ(cluster.registrations(), 2u);
  const auto ops = cluster.operations();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_NE(ops[2].session, ops[0].session) << "a new session";
  EXPECT_EQ(ops[2].request.value(), 1u) << "numbered from 1 again";
}

TEST(Client, EvictionByTheClientTable) {
  // A table of two sessions: a third client's registration evicts the first's session.
  FakeCluster cluster("table", 3, 4, 2);
  Client a(fast(cluster));
  Client b(fast(cluster));
  Client c(fast(cluster));
  ASSERT_EQ(a.put("k", "a").status, Status::ok);
  ASSERT_EQ(b.put("k", "b").status, Status::ok);
  ASSERT_EQ(c.put("k", "c").status, Status::ok);
  EXPECT_EQ(a.get("k").status, Status::session_evicted);
  EXPECT_EQ(a.get("k").value, "c") << "registered again";
}

TEST(Client, StatusBoardsNameThePrimary) {
  FakeCluster cluster("boards");
  cluster.set_policy(FakeCluster::primary_is(2));
  cluster.publish_board(0, process::Role::backup, vsr::Status::normal, 5);
  cluster.publish_board(1, process::Role::backup, vsr::Status::normal, 5);
  cluster.publish_board(2, process::Role::primary, vsr::Status::normal, 5);
  Client kv(fast(cluster));
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  for (const Received& r : cluster.received()) {
    EXPECT_EQ(r.replica, 2u) << "the boards' primary is asked first, registration included";
  }
}

TEST(Client, AnOldPrimaryBoardLosesToANewerView) {
  FakeCluster cluster("boards-views");
  cluster.set_policy(FakeCluster::primary_is(1));
  // Replica 0 still says primary of view 3; replica 1 is primary of view 4.
  cluster.publish_board(0, process::Role::primary, vsr::Status::normal, 3);
  cluster.publish_board(1, process::Role::primary, vsr::Status::normal, 4);
  Client kv(fast(cluster));
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  EXPECT_EQ(cluster.received().front().replica, 1u);
}

TEST(Client, ATimedOutAttemptAsksTheBoardsWhereToGo) {
  FakeCluster cluster("boards-retry");
  Options o = fast(cluster);
  o.attempt_timeout = 20ms;
  Client kv(o);
  ASSERT_EQ(kv.connect().status, Status::ok);
  // The primary goes silent and replica 2 takes over (view 2); the boards say so.
  cluster.set_policy([](std::uint32_t replica, const Request&, const std::vector<Received>&) {
    return replica == 2 ? Decision{} : Decision{Verdict::drop, 0};
  });
  cluster.publish_board(2, process::Role::primary, vsr::Status::normal, 2);
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  const auto ops = cluster.operations();
  ASSERT_GE(ops.size(), 2u);
  EXPECT_EQ(ops[0].replica, 0u);
  EXPECT_EQ(ops[1].replica, 2u) << "0, then straight to 2 (not 1)";
}

TEST(Client, InvalidReplyIsDefinite) {
  FakeCluster cluster("invalid");
  Client kv(fast(cluster));
  ASSERT_EQ(kv.connect().status, Status::ok);
  cluster.set_policy([](std::uint32_t, const Request&, const std::vector<Received>&) {
    return Decision{Verdict::invalid, 0};
  });
  const Result r = kv.put("k", "v");
  EXPECT_EQ(r.status, Status::invalid_argument);
  EXPECT_FALSE(r.indeterminate());
}

TEST(Client, NoPrimaryMeansUnavailableWithinTheTimeout) {
  FakeCluster cluster("no-primary");
  cluster.set_policy([](std::uint32_t, const Request&, const std::vector<Received>&) {
    return Decision{Verdict::drop, 0};
  });
  Options o = fast(cluster);
  o.timeout = 200ms;
  o.attempt_timeout = 20ms;
  Client kv(o);
  const Result r = kv.put("k", "v");
  EXPECT_EQ(r.status, Status::unavailable) << "no session: the operation was never sent";
  EXPECT_NE(r.message.find("not sent"), std::string::npos) << r.message;
  EXPECT_TRUE(cluster.operations().empty());
  EXPECT_GE(cluster.registrations(), 3u) << "every replica was asked";
  EXPECT_EQ(kv.connect().status, Status::unavailable);
}

TEST(Client, FindsAClusterStartedAgainUnderANewSegment) {
  Options o;
  o.timeout = 300ms;
  o.attempt_timeout = 30ms;
  o.heartbeat_fresh = 100ms;
  auto cluster = std::make_unique<FakeCluster>("restart");
  cluster->publish_board(0, process::Role::primary, vsr::Status::normal, 0);
  o.cluster = cluster->name();
  Client kv(o);
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  // The cluster goes away; our mapping of its segment stays valid but nobody answers.
  cluster.reset();
  // By the end of this timeout the primary's board is older than heartbeat_fresh.
  EXPECT_EQ(kv.put("k", "w").status, Status::timed_out);
  const Result gone = kv.put("k", "w");
  EXPECT_EQ(gone.status, Status::unavailable) << "no fresh board: the client attached again";
  EXPECT_NE(gone.message.find("no cluster"), std::string::npos) << gone.message;
  // A new cluster under the same name (with no memory of our session).
  cluster = std::make_unique<FakeCluster>(ExactName{o.cluster});
  EXPECT_EQ(kv.put("k", "x").status, Status::session_evicted);
  ASSERT_EQ(kv.put("k", "y").status, Status::ok);
  EXPECT_EQ(cluster->value("k"), "y");
}

TEST(Client, AliveBoardsKeepTheConnection) {
  FakeCluster cluster("keep");
  cluster.publish_board(0, process::Role::primary, vsr::Status::normal, 0);
  Options o = fast(cluster);
  o.timeout = 100ms;
  o.attempt_timeout = 20ms;
  Client kv(o);
  ASSERT_EQ(kv.put("k", "v").status, Status::ok);
  cluster.set_policy([](std::uint32_t, const Request&, const std::vector<Received>&) {
    return Decision{Verdict::drop, 0};
  });
  EXPECT_EQ(kv.put("k", "w").status, Status::timed_out);
  cluster.set_policy(FakeCluster::primary_is(0));
  ASSERT_EQ(kv.put("k", "x").status, Status::ok);
  std::set<std::pair<std::uint32_t, std::uint32_t>> claims;
  for (const Received& r : cluster.received())
    claims.insert({r.slot, r.generation});
  EXPECT_EQ(claims.size(), 1u) << "a live cluster's timeout is no reason to attach again";
}

TEST(Client, MovedClientKeepsWorking) {
  FakeCluster cluster("moved");
  Client a(fast(cluster));
  ASSERT_EQ(a.put("k", "v").status, Status::ok);
  Client b = std::move(a);
  EXPECT_EQ(b.get("k").value, "v");
  EXPECT_EQ(cluster.registrations(), 1u);
}

}  // namespace
}  // namespace vsr::client::test
