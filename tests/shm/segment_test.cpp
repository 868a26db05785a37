// The segment: creation, permissions, header validation, stale leftovers.
#include "shm/segment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "shm/replica_port.h"
#include "test_util.h"

namespace vsr::shm {
namespace {

using test::TestSegment;

std::string dev_shm_path(const std::string& cluster) {
  return "/dev/shm/vsr-" + cluster;
}

// Expects `f` to throw shm::Error with `code` and a message containing every `parts`.
template <typename F>
void expect_error(F&& f, ErrorCode code, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const char* part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message lacks '" << part << "': " << e.what();
    }
  }
}

TEST(Segment, CreateThenAttachSeesTheSameCluster) {
  TestSegment t("attach", 5, 16);
  EXPECT_EQ(Segment::object_name(t.cluster), "/vsr-" + t.cluster);
  Segment other = Segment::attach(t.cluster, AttachOptions{5, t.segment.cluster_id(), 0});
  EXPECT_EQ(other.replica_count(), 5u);
  EXPECT_EQ(other.client_slots(), 16u);
  EXPECT_EQ(other.cluster_id(), t.segment.cluster_id());
  EXPECT_NE(other.cluster_id(), 0u);
  EXPECT_EQ(other.header().supervisor_pid, static_cast<std::uint64_t>(::getpid()));
  EXPECT_EQ(other.header().info.replica_ring_bytes, kReplicaRingBytes);
  EXPECT_EQ(other.header().info.client_ring_bytes, kClientRingBytes);
  // Both mappings see one memory.
  t.segment.links().set(1, 2, false);
  EXPECT_FALSE(other.links().allowed(1, 2));
  EXPECT_TRUE(other.links().allowed(2, 1));
}

TEST(Segment, IsOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  TestSegment t("perm");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(dev_shm_path(t.cluster).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), t.segment.size_bytes());
}

TEST(Segment, DefaultSizeStaysUnder64MiB) {
  const Layout l = Layout::compute(3, 32);
  EXPECT_LT(l.total_bytes, std::uint64_t{64} << 20);
  const Layout max = Layout::compute(kMaxReplicas, kMaxClientSlots);
  EXPECT_GT(max.total_bytes, l.total_bytes);
  std::printf("segment bytes: N=3 S=32: %.1f MiB; N=7 S=256: %.1f MiB\n",
              static_cast<double>(l.total_bytes) / (1 << 20),
              static_cast<double>(max.total_bytes) / (1 << 20));
}

TEST(Segment, RejectsBadConfiguration) {
  expect_error(
      [] {
        Segment::create(SegmentConfig{"bad/name", 3, 4, 0, 0});
      },
      ErrorCode::invalid_argument, {"invalid cluster name"});
  expect_error(
      [] {
        Segment::create(SegmentConfig{"", 3, 4, 0, 0});
      },
      ErrorCode::invalid_argument, {"invalid cluster name"});
  const std::string c = test::unique_cluster("cfg");
  expect_error(
      [&] {
        Segment::create(SegmentConfig{c, 0, 4, 0, 0});
      },
      ErrorCode::invalid_argument, {"1 to 7"});
  expect_error(
      [&] {
        Segment::create(SegmentConfig{c, 8, 4, 0, 0});
      },
      ErrorCode::invalid_argument, {"1 to 7"});
  expect_error(
      [&] {
        Segment::create(SegmentConfig{c, 3, 257, 0, 0});
      },
      ErrorCode::invalid_argument, {"0 to 256"});
}

TEST(Segment, AttachToMissingClusterSaysHowToStartOne) {
  const std::string c = test::unique_cluster("missing");
  expect_error([&] { Segment::attach(c); }, ErrorCode::not_found,
               {"no cluster", "is running", "vsr-supervisor start --cluster"});
  EXPECT_FALSE(Segment::remove(c));
  EXPECT_EQ(Segment::probe(c).state, SegmentProbe::State::absent);
}

TEST(Segment, CreateRefusesWhileItsSupervisorRuns) {
  TestSegment t("live");
  EXPECT_EQ(Segment::probe(t.cluster).state, SegmentProbe::State::live);
  EXPECT_FALSE(Segment::remove_if_stale(t.cluster));
  expect_error(
      [&] {
        Segment::create(SegmentConfig{t.cluster, 3, 4, 0, 0});
      },
      ErrorCode::already_running, {"already running", "vsr-supervisor stop"});
}

TEST(Segment, AttachRefusesMismatchedExpectations) {
  TestSegment t("expect", 3, 4);
  expect_error(
      [&] {
        Segment::attach(t.cluster, AttachOptions{5, {}, {}});
      },
      ErrorCode::mismatch, {"has 3 replicas", "for 5"});
  expect_error(
      [&] {
        Segment::attach(t.cluster, AttachOptions{{}, t.segment.cluster_id() + 1, {}});
      },
      ErrorCode::mismatch, {"cluster was recreated"});
  expect_error(
      [&] {
        Segment::attach(t.cluster, AttachOptions{{}, {}, 7});
      },
      ErrorCode::mismatch, {"generation"});
}

// Scribbles on the header through a mapping of our own, then expects attach to refuse.
class HeaderCorruption : public ::testing::Test {
 protected:
  TestSegment t{"hdr"};
  Header& header() { return const_cast<Header&>(t.segment.header()); }
};

TEST_F(HeaderCorruption, WrongMagic) {
  header().magic.store(0xdeadbeef);
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::corrupt,
               {"not a vsr segment", "vsr-supervisor start"});
}

TEST_F(HeaderCorruption, MagicNotYetPublished) {
  header().magic.store(0);
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::incomplete, {"still being created"});
}

TEST_F(HeaderCorruption, WrongLayoutVersion) {
  header().layout_version = kLayoutVersion + 1;
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::mismatch,
               {"layout version", "one build"});
}

TEST_F(HeaderCorruption, ChangedReplicaCountFailsTheChecksum) {
  header().info.replica_count = 4;
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::corrupt, {"checksum"});
}

TEST_F(HeaderCorruption, ResealedButInconsistentLayout) {
  // A header that verifies but describes rings of another build.
  header().info.client_ring_bytes = 4096;
  header().info_checksum = info_checksum(header().info);
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::mismatch, {"different build"});
  header().info.client_ring_bytes = kClientRingBytes;
  header().info.replica_count = 4;  // the layout no longer matches the recorded offsets
  header().info_checksum = info_checksum(header().info);
  expect_error([&] { Segment::attach(t.cluster); }, ErrorCode::mismatch, {"different build"});
}

TEST(Segment, StaleSegmentOfADeadSupervisor) {
  const std::string c = test::unique_cluster("stale");
  // A "supervisor" that creates the segment and dies without removing it.
  const pid_t child = test::spawn([&] {
    Segment s = Segment::create(SegmentConfig{c, 3, 4, 0, 0});
    return 0;
  });
  ASSERT_EQ(test::reap(child), 0);
  const std::string pid = std::to_string(child);
  expect_error(
      [&] { Segment::attach(c); }, ErrorCode::stale,
      {"was left by supervisor pid", pid.c_str(), "no longer running", "vsr-supervisor start"});
  const SegmentProbe probe = Segment::probe(c);
  EXPECT_EQ(probe.state, SegmentProbe::State::dead);
  EXPECT_EQ(probe.supervisor_pid, static_cast<std::uint32_t>(child));
  // The next supervisor cleans it up and creates a fresh one.
  {
    Segment fresh = Segment::create(SegmentConfig{c, 5, 2, 0, 0});
    EXPECT_EQ(fresh.replica_count(), 5u);
    EXPECT_NO_THROW(Segment::attach(c));
  }
  EXPECT_TRUE(Segment::remove(c));
}

TEST(Segment, StaleSegmentListsTheProcessesStillAttached) {
  const std::string c = test::unique_cluster("orphans");
  test::SharedBlock<std::atomic<int>> replica_pid;
  // A supervisor that starts one replica and dies; the replica runs on.
  const pid_t supervisor = test::spawn([&] {
    Segment s = Segment::create(SegmentConfig{c, 3, 4, 0, 0});
    test::spawn([&] {
      Segment mine = Segment::attach(c);
      ReplicaPort r0(mine, 0);
      replica_pid->store(::getpid());
      ::pause();
      return 0;
    });
    while (replica_pid->load() == 0)
      ::usleep(1000);
    return 0;
  });
  ASSERT_EQ(test::reap(supervisor), 0);
  const SegmentProbe probe = Segment::probe(c);
  EXPECT_EQ(probe.state, SegmentProbe::State::dead);
  EXPECT_EQ(probe.attached_pids,
            std::vector<std::uint32_t>{static_cast<std::uint32_t>(*replica_pid)});
  ::kill(replica_pid->load(), SIGKILL);  // what the next supervisor does first
  for (int i = 0; i < 1000 && !Segment::probe(c).attached_pids.empty(); ++i)
    ::usleep(1000);
  EXPECT_TRUE(Segment::probe(c).attached_pids.empty());
  EXPECT_TRUE(Segment::remove_if_stale(c));
}

TEST(Segment, HalfCreatedSegmentOfADeadSupervisor) {
  const std::string c = test::unique_cluster("half");
  const pid_t child = test::spawn([&] {
    Segment s = Segment::create(SegmentConfig{c, 3, 4, 0, 0});
    const_cast<Header&>(s.header()).magic.store(0);  // as if killed before publishing
    return 0;
  });
  ASSERT_EQ(test::reap(child), 0);
  expect_error([&] { Segment::attach(c); }, ErrorCode::incomplete,
               {"half-created", "no longer running", "vsr-supervisor start"});
  EXPECT_TRUE(Segment::remove_if_stale(c));
  EXPECT_EQ(Segment::probe(c).state, SegmentProbe::State::absent);
}

TEST(Segment, StatusBoardsAndHintsAreShared) {
  TestSegment t("status");
  Segment other = Segment::attach(t.cluster);
  StatusUpdate u;
  u.pid = 123;
  u.incarnation = 2;
  u.role = 1;
  u.status = 3;
  u.view = 10;
  u.op = 20;
  u.commit = 19;
  t.segment.status(1).publish(u);
  t.segment.status(1).publish(u);
  const ReplicaStatus s = other.status(1).read();
  EXPECT_TRUE(s.consistent);
  EXPECT_EQ(s.pid, 123u);
  EXPECT_EQ(s.incarnation, 2u);
  EXPECT_EQ(s.role, 1u);
  EXPECT_EQ(s.status, 3u);
  EXPECT_EQ(s.view, 10u);
  EXPECT_EQ(s.op, 20u);
  EXPECT_EQ(s.commit, 19u);
  EXPECT_EQ(s.heartbeat, 2u);
  EXPECT_GT(s.updated_ns, 0u);
  other.status(1).beat();
  EXPECT_EQ(t.segment.status(1).read().heartbeat, 3u);
  EXPECT_EQ(t.segment.status(0).read().heartbeat, 0u);

  EXPECT_EQ(other.replica_down_count(2), 0u);
  t.segment.signal_replica_down(2);
  EXPECT_EQ(other.replica_down_count(2), 1u);
  EXPECT_EQ(other.replica_down_count(1), 0u);
}

TEST(Segment, StatusBoardReadersSeeWholeUpdates) {
  TestSegment t("seqlock");
  test::SharedBlock<std::atomic<int>> done;
  const pid_t writer = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    for (std::uint64_t i = 1; i <= 100'000; ++i) {
      StatusUpdate u;
      u.view = u.op = u.commit = i;
      s.status(0).publish(u);
      // A short gap between updates, as a real replica has: readers must also get
      // through, not only see that they raced.
      for (int spin = 0; spin < 20; ++spin)
        __builtin_ia32_pause();
    }
    done->store(1);
    return 0;
  });
  std::uint64_t consistent = 0;
  std::uint64_t torn = 0;
  while (done->load() == 0) {
    const ReplicaStatus s = t.segment.status(0).read();
    if (!s.consistent) {
      ++torn;
      continue;
    }
    ++consistent;
    // One publish wrote all three and bumped the heartbeat once: a whole update agrees.
    ASSERT_EQ(s.view, s.op);
    ASSERT_EQ(s.op, s.commit);
    ASSERT_EQ(s.heartbeat, s.view);
  }
  EXPECT_EQ(test::reap(writer), 0);
  EXPECT_GT(consistent, 0u);
  const ReplicaStatus last = t.segment.status(0).read();
  EXPECT_TRUE(last.consistent);
  EXPECT_EQ(last.view, 100'000u);
  EXPECT_EQ(last.heartbeat, 100'000u);
  std::printf("%llu whole reads, %llu flagged inconsistent\n",
              static_cast<unsigned long long>(consistent), static_cast<unsigned long long>(torn));
}

TEST(Segment, LinkMatrixIsolateAndHeal) {
  TestSegment t("links", 4, 0);
  LinkMatrix& links = t.segment.links();
  links.isolate(2);
  for (std::uint32_t r = 0; r < 4; ++r) {
    if (r == 2) continue;
    EXPECT_FALSE(links.allowed(r, 2));
    EXPECT_FALSE(links.allowed(2, r));
  }
  EXPECT_TRUE(links.allowed(0, 1));
  links.heal_all();
  EXPECT_TRUE(links.allowed(0, 2));
  links.set(0, 1, false);
  EXPECT_FALSE(links.allowed(0, 1));
  EXPECT_TRUE(links.allowed(1, 0));
}

}  // namespace
}  // namespace vsr::shm
