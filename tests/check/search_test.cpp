// The search on small hand-written histories, built with the in-memory API the simulator uses.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "check/check.h"
#include "check/history.h"
#include "check/report.h"

namespace vsr::check {
namespace {

using std::chrono_literals::operator""ms;

ProcessId p(std::uint64_t n) {
  return ProcessId{n};
}

Verdict verdict(const History& h) {
  return check(h).verdict;
}

// Runs one operation to completion before anything else happens.
OpId sequential(History& h, std::uint64_t process, Op op, Outcome outcome) {
  const OpId id = h.invoke(p(process), std::move(op));
  h.complete(id, outcome);
  return id;
}

OpId read(History& h, std::uint64_t process, const std::string& key, Value value) {
  const OpId id = h.invoke(p(process), Op::get(key));
  h.complete(id, Outcome::ok, std::move(value));
  return id;
}

TEST(Search, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict(History{}), Verdict::linearizable);
}

TEST(Search, ConcurrentWritesThenReadOfEitherValue) {
  for (const char* seen : {"a", "b"}) {
    History h;
    const OpId a = h.invoke(p(1), Op::put("x", "a"));
    const OpId b = h.invoke(p(2), Op::put("x", "b"));
    h.complete(a, Outcome::ok);
    h.complete(b, Outcome::ok);
    read(h, 3, "x", seen);
    EXPECT_EQ(verdict(h), Verdict::linearizable) << seen;
  }
  History h;
  const OpId a = h.invoke(p(1), Op::put("x", "a"));
  const OpId b = h.invoke(p(2), Op::put("x", "b"));
  h.complete(a, Outcome::ok);
  h.complete(b, Outcome::ok);
  read(h, 3, "x", "c");
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

TEST(Search, StaleReadAfterCompletedWriteFails) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 1, Op::put("x", "b"), Outcome::ok);
  const OpId stale = read(h, 2, "x", "a");
  const CheckResult r = check(h);
  ASSERT_EQ(r.verdict, Verdict::not_linearizable);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(r.failure->key, "x");
  EXPECT_EQ(r.failure->linearized.size(), 2u);
  EXPECT_EQ(r.failure->value, Value("b"));
  ASSERT_EQ(r.failure->stuck.size(), 1u);
  EXPECT_EQ(r.failure->stuck[0].op, stale);
  EXPECT_TRUE(r.failure->stuck[0].contradicts);
}

TEST(Search, ReadOverlappingAWriteMaySeeOldOrNew) {
  for (const Value& seen : {Value{}, Value("a")}) {
    History h;
    const OpId w = h.invoke(p(1), Op::put("x", "a"));
    read(h, 2, "x", seen);
    h.complete(w, Outcome::ok);
    EXPECT_EQ(verdict(h), Verdict::linearizable);
  }
}

TEST(Search, RealTimeOrderIsRespected) {
  // The read completes before the write begins, so it cannot see the write.
  History sees_future;
  read(sees_future, 2, "x", "a");
  sequential(sees_future, 1, Op::put("x", "a"), Outcome::ok);
  EXPECT_EQ(verdict(sees_future), Verdict::not_linearizable);

  History sees_nothing;
  read(sees_nothing, 2, "x", std::nullopt);
  sequential(sees_nothing, 1, Op::put("x", "a"), Outcome::ok);
  EXPECT_EQ(verdict(sees_nothing), Verdict::linearizable);

  // Two reads in real-time order cannot see the writes in the opposite order.
  History h;
  const OpId a = h.invoke(p(1), Op::put("x", "a"));
  const OpId b = h.invoke(p(2), Op::put("x", "b"));
  read(h, 3, "x", "b");
  read(h, 3, "x", "a");
  read(h, 4, "x", "b");
  h.complete(a, Outcome::ok);
  h.complete(b, Outcome::ok);
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

TEST(Search, IndeterminateWriteSeenByLaterRead) {
  History info;
  sequential(info, 1, Op::put("x", "a"), Outcome::ok);
  sequential(info, 2, Op::put("x", "b"), Outcome::info);
  read(info, 3, "x", "b");
  EXPECT_EQ(verdict(info), Verdict::linearizable);

  History never_completed;
  sequential(never_completed, 1, Op::put("x", "a"), Outcome::ok);
  never_completed.invoke(p(2), Op::put("x", "b"));
  read(never_completed, 3, "x", "a");
  read(never_completed, 3, "x", "b");
  EXPECT_EQ(verdict(never_completed), Verdict::linearizable);
}

TEST(Search, IndeterminateWriteNeverSeen) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 2, Op::put("x", "b"), Outcome::info);
  read(h, 3, "x", "a");
  read(h, 3, "x", "a");
  EXPECT_EQ(verdict(h), Verdict::linearizable);
}

TEST(Search, IndeterminateWriteCannotBeUndone) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 2, Op::put("x", "b"), Outcome::info);
  read(h, 3, "x", "b");
  read(h, 3, "x", "a");
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

TEST(Search, IndeterminateWriteCannotTakeEffectBeforeItsInvocation) {
  History h;
  read(h, 3, "x", "b");
  sequential(h, 2, Op::put("x", "b"), Outcome::info);
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

TEST(Search, IndeterminateReadIsIgnored) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 2, Op::get("x"), Outcome::info);
  h.invoke(p(3), Op::get("x"));
  EXPECT_EQ(verdict(h), Verdict::linearizable);
}

TEST(Search, FailedCasMustHaveSeenADifferentValue) {
  History differs;
  sequential(differs, 1, Op::put("x", "a"), Outcome::ok);
  sequential(differs, 2, Op::cas("x", "b", "c"), Outcome::fail);
  read(differs, 3, "x", "a");
  EXPECT_EQ(verdict(differs), Verdict::linearizable);

  History equal;
  sequential(equal, 1, Op::put("x", "a"), Outcome::ok);
  sequential(equal, 2, Op::cas("x", "a", "c"), Outcome::fail);
  EXPECT_EQ(verdict(equal), Verdict::not_linearizable);

  // A concurrent write can explain the failure.
  History raced;
  sequential(raced, 1, Op::put("x", "a"), Outcome::ok);
  const OpId cas = raced.invoke(p(2), Op::cas("x", "a", "c"));
  sequential(raced, 3, Op::put("x", "b"), Outcome::ok);
  raced.complete(cas, Outcome::fail);
  EXPECT_EQ(verdict(raced), Verdict::linearizable);
}

TEST(Search, FailedCasReportingTheValueSeen) {
  for (const auto& [seen, expected] : {std::pair{Value("a"), Verdict::linearizable},
                                       std::pair{Value("z"), Verdict::not_linearizable},
                                       std::pair{Value{}, Verdict::not_linearizable}}) {
    History h;
    sequential(h, 1, Op::put("x", "a"), Outcome::ok);
    const OpId cas = h.invoke(p(2), Op::cas("x", "b", "c"));
    h.complete(cas, Outcome::fail, seen);
    EXPECT_EQ(verdict(h), expected) << (seen ? *seen : "nil");
  }
}

TEST(Search, SuccessfulCasSwaps) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 2, Op::cas("x", "a", "c"), Outcome::ok);
  read(h, 3, "x", "c");
  EXPECT_EQ(verdict(h), Verdict::linearizable);

  History wrong;
  sequential(wrong, 1, Op::put("x", "a"), Outcome::ok);
  sequential(wrong, 2, Op::cas("x", "b", "c"), Outcome::ok);
  EXPECT_EQ(verdict(wrong), Verdict::not_linearizable);

  // nil as expected value: create if absent.
  History create;
  sequential(create, 2, Op::cas("x", std::nullopt, "c"), Outcome::ok);
  read(create, 3, "x", "c");
  EXPECT_EQ(verdict(create), Verdict::linearizable);
}

TEST(Search, IndeterminateCasMayOrMayNotSwap) {
  for (const char* seen : {"a", "c"}) {
    History h;
    sequential(h, 1, Op::put("x", "a"), Outcome::ok);
    sequential(h, 2, Op::cas("x", "a", "c"), Outcome::info);
    read(h, 3, "x", seen);
    EXPECT_EQ(verdict(h), Verdict::linearizable) << seen;
  }
  // It can only swap from its expected value.
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 2, Op::cas("x", "b", "c"), Outcome::info);
  read(h, 3, "x", "c");
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

TEST(Search, DelSemantics) {
  History h;
  read(h, 1, "x", std::nullopt);
  sequential(h, 1, Op::del("x"), Outcome::fail);
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 1, Op::del("x"), Outcome::ok);
  read(h, 1, "x", std::nullopt);
  sequential(h, 1, Op::del("x"), Outcome::fail);
  EXPECT_EQ(verdict(h), Verdict::linearizable);

  History del_absent;
  sequential(del_absent, 1, Op::del("x"), Outcome::ok);
  EXPECT_EQ(verdict(del_absent), Verdict::not_linearizable);

  History del_fail_present;
  sequential(del_fail_present, 1, Op::put("x", "a"), Outcome::ok);
  sequential(del_fail_present, 1, Op::del("x"), Outcome::fail);
  EXPECT_EQ(verdict(del_fail_present), Verdict::not_linearizable);

  History del_info;
  sequential(del_info, 1, Op::put("x", "a"), Outcome::ok);
  sequential(del_info, 1, Op::del("x"), Outcome::info);
  read(del_info, 2, "x", std::nullopt);
  EXPECT_EQ(verdict(del_info), Verdict::linearizable);
}

TEST(Search, AbsentAndEmptyAreDistinct) {
  History h;
  read(h, 1, "x", "");
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);

  // Unless every key starts at "", as in the kv file format.
  h.set_initial_value("");
  EXPECT_EQ(verdict(h), Verdict::linearizable);
}

TEST(Search, AppendSemantics) {
  History h;
  sequential(h, 1, Op::append("x", "a"), Outcome::ok);  // absent counts as empty
  sequential(h, 1, Op::append("x", "b"), Outcome::ok);
  read(h, 2, "x", "ab");
  EXPECT_EQ(verdict(h), Verdict::linearizable);

  History order;
  sequential(order, 1, Op::append("x", "a"), Outcome::ok);
  sequential(order, 1, Op::append("x", "b"), Outcome::ok);
  read(order, 2, "x", "ba");
  EXPECT_EQ(verdict(order), Verdict::not_linearizable);

  for (const char* seen : {"ab", "ba"}) {
    History concurrent;
    const OpId a = concurrent.invoke(p(1), Op::append("x", "a"));
    const OpId b = concurrent.invoke(p(2), Op::append("x", "b"));
    concurrent.complete(a, Outcome::ok);
    concurrent.complete(b, Outcome::ok);
    read(concurrent, 3, "x", seen);
    EXPECT_EQ(verdict(concurrent), Verdict::linearizable) << seen;
  }

  History lost;
  const OpId a = lost.invoke(p(1), Op::append("x", "a"));
  const OpId b = lost.invoke(p(2), Op::append("x", "b"));
  lost.complete(a, Outcome::ok);
  lost.complete(b, Outcome::ok);
  read(lost, 3, "x", "a");
  EXPECT_EQ(verdict(lost), Verdict::not_linearizable);

  // An append after a put builds on the put's value.
  History after_put;
  sequential(after_put, 1, Op::put("x", "p"), Outcome::ok);
  sequential(after_put, 1, Op::append("x", "a"), Outcome::ok);
  read(after_put, 2, "x", "pa");
  EXPECT_EQ(verdict(after_put), Verdict::linearizable);
}

TEST(Search, OnlyTheBadKeyIsReported) {
  History h;
  sequential(h, 1, Op::put("good", "1"), Outcome::ok);
  sequential(h, 2, Op::put("bad", "1"), Outcome::ok);
  read(h, 3, "good", "1");
  sequential(h, 2, Op::put("bad", "2"), Outcome::ok);
  const OpId stale = read(h, 3, "bad", "1");
  read(h, 3, "good", "1");
  const CheckResult r = check(h);
  ASSERT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_EQ(r.failure->key, "bad");
  ASSERT_EQ(r.failure->stuck.size(), 1u);
  EXPECT_EQ(r.failure->stuck[0].op, stale);
}

TEST(Search, KeysAreIndependent) {
  // Writes to two keys overlap reads of both; each key is checked on its own.
  History h;
  const OpId wx = h.invoke(p(1), Op::put("x", "1"));
  const OpId wy = h.invoke(p(2), Op::put("y", "1"));
  read(h, 3, "x", "1");
  read(h, 4, "y", std::nullopt);
  read(h, 4, "y", "1");
  h.complete(wx, Outcome::ok);
  h.complete(wy, Outcome::ok);
  EXPECT_EQ(verdict(h), Verdict::linearizable);
}

// Ten concurrent appends that no read sees, then a read they cannot explain. Each order of
// the appends builds another string, but none of them is a prefix of anything the history
// reads, so the search treats them as one value: it visits the subsets of the appends
// (2^10), not their orders (10! of them, all of which it visited before).
TEST(Search, OrdersOfUnreadAppendsAreOneState) {
  History h;
  std::vector<OpId> appends;
  for (std::uint64_t i = 1; i <= 10; ++i)
    appends.push_back(h.invoke(p(i), Op::append("x", "," + std::to_string(i))));
  for (const OpId id : appends)
    h.complete(id, Outcome::ok);
  read(h, 11, "x", "unexplained");
  const CheckResult r = check(h);
  EXPECT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_LT(r.states_explored, 20'000u);
}

// A value no operation reads still counts as present: an indeterminate append nobody sees
// may be what let a later del succeed, and an append that completed rules out a failed del.
TEST(Search, AnUnreadValueIsStillPresent) {
  {
    History h;
    h.invoke(p(1), Op::append("x", "never read"));
    sequential(h, 2, Op::del("x"), Outcome::ok);
    read(h, 3, "x", std::nullopt);
    EXPECT_EQ(verdict(h), Verdict::linearizable);
  }
  {
    History h;
    sequential(h, 1, Op::append("x", "never read"), Outcome::ok);
    sequential(h, 2, Op::del("x"), Outcome::fail);
    EXPECT_EQ(verdict(h), Verdict::not_linearizable);
  }
  {
    History h;
    sequential(h, 1, Op::put("x", "never read"), Outcome::ok);
    sequential(h, 2, Op::cas("x", "a", "b"), Outcome::fail);
    sequential(h, 3, Op::cas("x", std::nullopt, "c"), Outcome::fail);
    EXPECT_EQ(verdict(h), Verdict::linearizable);
  }
}

// A value is readable while appends can still make it into one a read sees: "a" then "b"
// must stay apart from "b" then "a" when "ab" is read.
TEST(Search, PrefixesOfReadValuesStayDistinct) {
  for (const char* seen : {"ab", "ba"}) {
    History h;
    const OpId a = h.invoke(p(1), Op::append("x", "a"));
    const OpId b = h.invoke(p(2), Op::append("x", "b"));
    h.complete(a, Outcome::ok);
    h.complete(b, Outcome::ok);
    read(h, 3, "x", seen);
    EXPECT_EQ(verdict(h), Verdict::linearizable) << seen;
  }
  History h;
  sequential(h, 1, Op::append("x", "a"), Outcome::ok);
  sequential(h, 2, Op::append("x", "b"), Outcome::ok);
  read(h, 3, "x", "ba");
  EXPECT_EQ(verdict(h), Verdict::not_linearizable);
}

// Thirty appends of "a" that never complete, then a read of thirty-one a's and a "b": no
// subset of them produces it, and since every run of a's is a prefix of what was read, each
// subset is a configuration of its own (2^30 of them).
History hopeless_history() {
  History h;
  constexpr std::uint64_t kAppends = 30;
  for (std::uint64_t i = 1; i <= kAppends; ++i)
    h.invoke(p(i), Op::append("x", "a"));
  read(h, 0, "x", std::string(kAppends + 1, 'a') + "b");
  return h;
}

TEST(Search, TimeoutGivesUnknown) {
  const History h = hopeless_history();
  Options options;
  options.timeout = 50ms;
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = check(h, options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_NE(r.unknown_reason.find("time limit"), std::string::npos) << r.unknown_reason;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(Search, MemoryLimitGivesUnknown) {
  const History h = hopeless_history();
  Options options;
  options.timeout = std::chrono::seconds(20);
  options.memory_limit_bytes = std::size_t{1} << 20;
  const CheckResult r = check(h, options);
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_NE(r.unknown_reason.find("MiB"), std::string::npos) << r.unknown_reason;
}

TEST(Search, UnknownKeyDoesNotHideABadOne) {
  History h = hopeless_history();
  sequential(h, 40, Op::put("y", "1"), Outcome::ok);
  read(h, 41, "y", "2");
  Options options;
  options.timeout = std::chrono::seconds(20);
  const CheckResult r = check(h, options);
  ASSERT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_EQ(r.failure->key, "y");
}

TEST(Search, ReportNamesKeyAndOperations) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 1, Op::put("x", "b"), Outcome::ok);
  read(h, 2, "x", "a");
  std::ostringstream out;
  print_result(out, h, check(h));
  const std::string text = out.str();
  EXPECT_TRUE(text.starts_with("not linearizable\n")) << text;
  EXPECT_NE(text.find("key \"x\""), std::string::npos) << text;
  EXPECT_NE(text.find("op 2  "), std::string::npos) << text;
  EXPECT_NE(text.find("get \"x\" -> ok \"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("holding \"b\""), std::string::npos) << text;
}

// The search merges values no operation reads; the report still spells the value out.
TEST(Search, ReportSpellsOutAnUnreadValue) {
  History h;
  sequential(h, 1, Op::put("x", "a"), Outcome::ok);
  sequential(h, 1, Op::append("x", "b"), Outcome::ok);
  read(h, 2, "x", "c");
  std::ostringstream out;
  print_result(out, h, check(h));
  EXPECT_NE(out.str().find("holding \"ab\""), std::string::npos) << out.str();
}

}  // namespace
}  // namespace vsr::check
