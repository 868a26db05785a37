// Multi-process tests: the real supervisor, replicas and clients, through the
// command-line programs. Each test runs its own cluster.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "tests/service/cluster.h"

namespace vsr::test {
namespace {

using namespace std::chrono_literals;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

#define ASSERT_STARTED(c)                                                            \
  ASSERT_EQ((c).start_result().exit_code, 0)                                          \
      << "start failed:\n" << (c).start_result().out << (c).start_result().err

TEST(Service, StartRoundTripsAndStopLeavesNothingBehind) {
  Cluster c;
  ASSERT_STARTED(c);
  EXPECT_EQ(c.client({"put", "k", "v1"}).exit_code, 0);
  Exit get = c.client({"get", "k"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(trim(get.out), "v1");
  EXPECT_EQ(c.client({"append", "k", "+2"}).exit_code, 0);
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "v1+2");
  Exit mismatch = c.client({"cas", "k", "nope", "x"});
  EXPECT_EQ(mismatch.exit_code, 1) << "a cas mismatch is a definite negative";
  EXPECT_EQ(c.client({"cas", "k", "v1+2", "v3"}).exit_code, 0);
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "v3");
  EXPECT_EQ(c.client({"put", "big", "-"}, std::string(1000, 'x')).exit_code, 0);
  EXPECT_EQ(trim(c.client({"get", "big"}).out), std::string(1000, 'x'));
  EXPECT_EQ(c.client({"del", "k"}).exit_code, 0);
  EXPECT_EQ(c.client({"get", "k"}).exit_code, 1) << "not found";
  EXPECT_EQ(c.client({"del", "k"}).exit_code, 1);
  // Files are private to the user.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(c.data())) {
    const auto perms = std::filesystem::status(entry.path()).permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none)
        << entry.path();
  }
  std::string why;
  EXPECT_TRUE(c.stop_and_check_clean(&why)) << why;
}

TEST(Service, KillingThePrimaryUnderLoadMovesToANewViewAndTheOldPrimaryCatchesUp) {
  Cluster c;
  ASSERT_STARTED(c);
  const auto first = c.primary();
  ASSERT_TRUE(first.has_value());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.client({"put", "a" + std::to_string(i), "x"}).exit_code, 0);
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !done; ++i) {
      if (c.client({"put", "w" + std::to_string(i), "y"}).exit_code == 0) ++written;
    }
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(c.supervisor({"kill", std::to_string(*first)}).exit_code, 0);
  const int before = written.load();
  EXPECT_TRUE(c.wait_for([&](const auto& s) {
    for (const auto& r : s) {
      if (r.known && r.role == "primary" && r.status == "normal" && r.id != *first) return true;
    }
    return false;
  }));
  std::this_thread::sleep_for(500ms);
  done = true;
  writer.join();
  EXPECT_GT(written.load(), before) << "writes resume in the new view";
  EXPECT_EQ(c.supervisor({"restart", std::to_string(*first)}).exit_code, 0);
  EXPECT_TRUE(c.wait_for(converged)) << "status shows the same commit on all replicas";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(trim(c.client({"get", "a" + std::to_string(i)}).out), "x");
}

// Sync mode batch end to end: every write is synced by a quorum before it is
// acknowledged, the primary sends its Prepares at once and leaves its own sync to its
// background thread (BackgroundSync), and a killed primary's successor has every key.
TEST(Service, SyncBatchSurvivesAKilledPrimaryAndSyncsThePrimaryInTheBackground) {
  Cluster c(3, {"--sync", "batch"});
  ASSERT_STARTED(c);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.client({"put", "b" + std::to_string(i), "x"}).exit_code, 0);
  const auto first = c.primary();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(c.supervisor({"kill", std::to_string(*first)}).exit_code, 0);
  for (int i = 20; i < 30; ++i) ASSERT_EQ(c.client({"put", "b" + std::to_string(i), "x"}).exit_code, 0);
  ASSERT_EQ(c.supervisor({"restart", std::to_string(*first)}).exit_code, 0);
  ASSERT_TRUE(c.wait_for(converged));
  // One backup down: the primary's own vote is needed for every commit now.
  const auto second = c.primary();
  ASSERT_TRUE(second.has_value());
  const std::uint32_t backup = (*second + 1) % 3;
  ASSERT_EQ(c.supervisor({"kill", std::to_string(backup)}).exit_code, 0);
  for (int i = 30; i < 40; ++i)
    ASSERT_EQ(c.client({"put", "b" + std::to_string(i), "x"}).exit_code, 0);
  ASSERT_EQ(c.supervisor({"restart", std::to_string(backup)}).exit_code, 0);
  ASSERT_TRUE(c.wait_for(converged));
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(trim(c.client({"get", "b" + std::to_string(i)}).out), "x") << i;
  std::string why;
  EXPECT_TRUE(c.stop_and_check_clean(&why)) << why;
  // Each replica's log ends with how it waited and synced: the backups synced before
  // their acknowledgements, the primaries in the background.
  std::uint64_t syncs = 0, background = 0;
  for (std::uint32_t r = 0; r < 3; ++r) {
    std::ifstream log(c.data() / ("replica-" + std::to_string(r)) / "replica.log");
    for (std::string line; std::getline(log, line);) {
      const auto s = line.find("; syncs ");
      const auto b = line.find("background syncs ");
      if (s == std::string::npos || b == std::string::npos) continue;
      syncs += std::stoull(line.substr(s + 8));
      background += std::stoull(line.substr(b + 17));
    }
  }
  // (The 10 writes with a backup down are the real check: each needed the primary's
  // vote, which only a reported background sync gives. These counts show the shape.)
  EXPECT_GT(syncs, 30u) << "the backups sync every batch";
  EXPECT_GT(background, 0u) << "the primaries synced in the background";
}

TEST(Service, AWipedBackupRejoinsThroughRecoveryAndHoldsEveryCommittedKey) {
  Cluster c;
  ASSERT_STARTED(c);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(c.client({"put", "k" + std::to_string(i), "v"}).exit_code, 0);
  const auto p = c.primary();
  ASSERT_TRUE(p.has_value());
  const std::uint32_t backup = (*p + 1) % 3;
  EXPECT_EQ(c.supervisor({"restart", std::to_string(backup), "--wipe"}).exit_code, 0);
  EXPECT_TRUE(c.wait_for(converged));
  // The recovered backup holds every key: take the others down and read through it.
  EXPECT_EQ(c.supervisor({"kill", std::to_string(*p)}).exit_code, 0);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(trim(c.client({"get", "k" + std::to_string(i)}).out), "v") << i;
  }
}

TEST(Service, APausedPrimaryIsReplacedAndRejoinsWithoutAnsweringFromTheOldView) {
  Cluster c;
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", "before"}).exit_code, 0);
  const auto p = c.primary();
  ASSERT_TRUE(p.has_value());
  const std::uint64_t paused_in = c.status()[*p].view;
  EXPECT_EQ(c.supervisor({"pause", std::to_string(*p)}).exit_code, 0);
  EXPECT_TRUE(c.wait_for([&](const auto& s) {
    for (const auto& r : s) {
      if (r.known && r.role == "primary" && r.status == "normal" && r.id != *p) return true;
    }
    return false;
  }));
  ASSERT_EQ(c.client({"put", "k", "after"}).exit_code, 0);
  EXPECT_EQ(c.supervisor({"resume", std::to_string(*p)}).exit_code, 0);
  // Reads keep returning the new value: the old primary never answers from its old view.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(trim(c.client({"get", "k"}).out), "after");
  // It rejoined the others' view as a backup, and its return cost no further view
  // change: the time it spent stopped is not silence it heard (tick_schedule.h). Before
  // that rule, its first turn replayed the pause as ticks right after joining view 1 and
  // timed out into view 2 (2 runs in 3), and now and then into view 3, leading again.
  EXPECT_TRUE(c.wait_for(converged));
  const auto s = c.status();
  for (const auto& r : s)
    EXPECT_EQ(r.view, paused_in + 1) << "replica " << r.id;
  EXPECT_EQ(s[*p].role, "backup");
}

TEST(Service, APausedBackupReturnsWithoutDisturbingTheView) {
  Cluster c;
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", "before"}).exit_code, 0);
  const auto p = c.primary();
  ASSERT_TRUE(p.has_value());
  const std::uint32_t b = (*p + 1) % 3;
  const std::uint64_t view = c.status()[*p].view;
  EXPECT_EQ(c.supervisor({"pause", std::to_string(b)}).exit_code, 0);
  // Longer than the view-change timeout (60-120 ms): a commit needs only one backup.
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(c.client({"put", "k", "during"}).exit_code, 0);
  EXPECT_EQ(c.supervisor({"resume", std::to_string(b)}).exit_code, 0);
  // It catches up in the same view: its first turn handles the primary's waiting
  // frames and does not count the pause as the primary's silence.
  EXPECT_TRUE(c.wait_for(converged));
  for (const auto& r : c.status())
    EXPECT_EQ(r.view, view) << "replica " << r.id;
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "during");
}

TEST(Service, APartitionedPrimaryCommitsNothingAndHealingLeavesOneHistory) {
  Cluster c;
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", "0"}).exit_code, 0);
  const auto p = c.primary();
  ASSERT_TRUE(p.has_value());
  const std::uint32_t a = (*p + 1) % 3, b = (*p + 2) % 3;
  const std::uint64_t old_commit = c.status()[*p].commit;
  EXPECT_EQ(c.supervisor({"partition", std::to_string(*p), std::to_string(a) + "," + std::to_string(b)}).exit_code, 0);
  // The majority side elects a primary and makes progress.
  ASSERT_TRUE(c.wait_for([&](const auto& s) {
    return (s[a].role == "primary" || s[b].role == "primary") && s[a].status == "normal" &&
           s[b].status == "normal" && std::max(s[a].view, s[b].view) > s[*p].view;
  }));
  for (int i = 1; i <= 10; ++i) ASSERT_EQ(c.client({"put", "k", std::to_string(i)}).exit_code, 0);
  EXPECT_EQ(c.status()[*p].commit, old_commit) << "the minority commits nothing";
  EXPECT_EQ(c.supervisor({"heal"}).exit_code, 0);
  EXPECT_TRUE(c.wait_for(converged));
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "10");
}

TEST(Service, ARequestRetriedWhileInFlightExecutesOnceAndGetsItsReply) {
  Cluster c;
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", ""}).exit_code, 0);
  const auto p = c.primary();
  ASSERT_TRUE(p.has_value());
  const std::uint32_t a = (*p + 1) % 3, b = (*p + 2) % 3;
  // The primary is cut off: it prepares the append but cannot commit it, so the
  // client times out and retries the same request, elsewhere and again.
  ASSERT_EQ(c.supervisor({"partition", std::to_string(*p), std::to_string(a) + "," + std::to_string(b)}).exit_code, 0);
  std::thread healer([&] {
    std::this_thread::sleep_for(1500ms);
    c.supervisor({"heal"});
  });
  Exit append = c.client({"--timeout", "20000", "append", "k", "x"});
  healer.join();
  EXPECT_EQ(append.exit_code, 0) << append.err;
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "x") << "executed exactly once";
}

TEST(Service, AClientKilledMidRequestHasItsSlotReclaimed) {
  Cluster c(3, {"--client-slots", "1"});
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", "v"}).exit_code, 0);
  for (std::uint32_t id = 0; id < 3; ++id) c.supervisor({"pause", std::to_string(id)});
  // A client whose request hangs (nobody answers) is killed while waiting.
  const pid_t client = ::fork();
  if (client == 0) {
    const std::string cluster = c.name();
    ::execl(bin("vsr-client").c_str(), "vsr-client", "--cluster", cluster.c_str(), "--timeout",
            "60000", "get", "k", nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(500ms);
  ::kill(client, SIGKILL);
  ::waitpid(client, nullptr, 0);
  for (std::uint32_t id = 0; id < 3; ++id) c.supervisor({"resume", std::to_string(id)});
  // The only slot was the dead client's: a new client gets it.
  Exit get = c.client({"get", "k"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(trim(get.out), "v");
}

TEST(Service, CommandLineErrorsSayWhatIsWrongWithTheDocumentedExitCode) {
  const std::string none = "no-such-cluster-" + std::to_string(::getpid());
  Exit r = run_program(bin("vsr-client"), {"--cluster", none, "get", "k"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(none), std::string::npos) << r.err;
  r = run_program(bin("vsr-supervisor"), {"status", "--cluster", none});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no supervisor is running"), std::string::npos) << r.err;
  EXPECT_EQ(run_program(bin("vsr-supervisor"), {"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_program(bin("vsr-supervisor"), {"start", "--replicas", "4"}).exit_code, 2);
  EXPECT_EQ(run_program(bin("vsr-client"), {"put", "k"}).exit_code, 2);
  EXPECT_EQ(run_program(bin("vsr-client"), {"teleport", "k"}).exit_code, 2);

  Cluster c;
  ASSERT_STARTED(c);
  EXPECT_EQ(c.client({"put", std::string(300, 'k'), "v"}).exit_code, 2) << "key too long";
  EXPECT_EQ(c.client({"put", "k", "-"}, std::string(17 * 1024, 'v')).exit_code, 2) << "value too long";
  Exit second = run_program(bin("vsr-supervisor"),
                           {"start", "--cluster", c.name(), "--data", c.data().string(), "--detach"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  EXPECT_EQ(c.supervisor({"kill", "9"}).exit_code, 1);
  EXPECT_EQ(c.supervisor({"partition", "0,7"}).exit_code, 1);
}

TEST(Service, AStartAfterACrashedSupervisorCleansUpItsLeftovers) {
  Cluster c;
  ASSERT_STARTED(c);
  ASSERT_EQ(c.client({"put", "k", "kept"}).exit_code, 0);
  // SIGKILL the supervisor: its replicas and its segment stay behind.
  Exit status = c.supervisor({"status", "--json"});
  const auto at = status.out.find("\"supervisor_pid\":");
  ASSERT_NE(at, std::string::npos);
  const pid_t supervisor_pid = std::stoi(status.out.substr(at + 17));
  ::kill(supervisor_pid, SIGKILL);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(std::filesystem::exists("/dev/shm/vsr-" + c.name()));
  Exit again = run_program(bin("vsr-supervisor"),
                          {"start", "--cluster", c.name(), "--data", c.data().string(), "--detach"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(trim(c.client({"get", "k"}).out), "kept");
}

// --detach starts a session of its own (a daemon); --keep-session stays in ours, so that
// clients started here share the replicas' scheduling group; bench reports which.
TEST(Service, KeepSessionKeepsTheReplicasInTheCallersSession) {
  auto sessions_of = [](Cluster& c) {
    std::vector<pid_t> sids;
    for (const ReplicaState& r : c.status()) sids.push_back(::getsid(static_cast<pid_t>(r.pid)));
    return sids;
  };
  auto bench_group = [](Cluster& c) {
    const Exit b = c.client({"bench", "--duration", "0.2", "--json"});
    EXPECT_EQ(b.exit_code, 0) << b.err;
    const auto at = b.out.find("\"sched_group\": \"");
    return at == std::string::npos ? std::string("missing")
                                   : b.out.substr(at + 16, b.out.find('"', at + 16) - at - 16);
  };
  const bool autogroup = [] {
    std::ifstream in("/proc/sys/kernel/sched_autogroup_enabled");
    int on = 0;
    return (in >> on) && on == 1;
  }();
  {
    Cluster own;
    ASSERT_STARTED(own);
    ASSERT_TRUE(own.wait_for(converged));
    for (const pid_t sid : sessions_of(own)) EXPECT_NE(sid, ::getsid(0));
    EXPECT_EQ(bench_group(own), autogroup ? "different" : "autogroup off");
  }
  Cluster kept(3, {"--keep-session"});
  ASSERT_STARTED(kept);
  ASSERT_TRUE(kept.wait_for(converged));
  const auto sids = sessions_of(kept);
  ASSERT_EQ(sids.size(), 3u);
  for (const pid_t sid : sids) EXPECT_EQ(sid, ::getsid(0));
  EXPECT_EQ(bench_group(kept), autogroup ? "same" : "autogroup off");
  // Without --detach the option makes no sense and is refused.
  EXPECT_EQ(run_program(bin("vsr-supervisor"), {"start", "--keep-session"}).exit_code, 2);
}

}  // namespace
}  // namespace vsr::test
