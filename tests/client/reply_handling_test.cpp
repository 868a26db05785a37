// What each reply means (client/src/reply_handling.h): typed results from the store's
// result, redirects, pauses, eviction, and registration replies.
#include <gtest/gtest.h>

#include "client/src/reply_handling.h"

namespace vsr::client::detail {
namespace {

using Kind = ReplyAction::Kind;

Reply ok_with(const kv::Result& result) {
  Reply r{ViewNumber(4), SessionId(7), RequestNumber(3), ReplyStatus::ok, {}};
  kv::encode(result, r.result);
  return r;
}

Reply refusal(ReplyStatus status, std::uint64_t view) {
  return Reply{ViewNumber(view), SessionId(7), RequestNumber(3), status, {}};
}

TEST(ReplyHandling, StoreResultsBecomeTypedResults) {
  ReplyAction a = operation_reply(ok_with({kv::ResultStatus::ok, "v"}), OpKind::get, 1, 3);
  ASSERT_EQ(a.kind, Kind::complete);
  EXPECT_EQ(a.result.status, Status::ok);
  EXPECT_EQ(a.result.value, "v");
  EXPECT_TRUE(a.result.message.empty());

  a = operation_reply(ok_with({kv::ResultStatus::ok, std::nullopt}), OpKind::put, 1, 3);
  EXPECT_EQ(a.result.status, Status::ok);
  EXPECT_FALSE(a.result.value.has_value()) << "only a get carries a value";

  a = operation_reply(ok_with({kv::ResultStatus::ok, ""}), OpKind::get, 1, 3);
  EXPECT_EQ(a.result.value, "") << "an empty value is not an absent one";

  a = operation_reply(ok_with({kv::ResultStatus::not_found, std::nullopt}), OpKind::del, 1, 3);
  EXPECT_EQ(a.result.status, Status::not_found);

  a = operation_reply(ok_with({kv::ResultStatus::cas_mismatch, "cur"}), OpKind::cas, 1, 3);
  EXPECT_EQ(a.result.status, Status::cas_mismatch);
  EXPECT_EQ(a.result.value, "cur");

  a = operation_reply(ok_with({kv::ResultStatus::cas_mismatch, std::nullopt}), OpKind::cas, 1, 3);
  EXPECT_EQ(a.result.status, Status::cas_mismatch);
  EXPECT_FALSE(a.result.value.has_value()) << "absent";

  a = operation_reply(ok_with({kv::ResultStatus::too_large, std::nullopt}), OpKind::append, 1, 3);
  EXPECT_EQ(a.result.status, Status::too_large);
  EXPECT_FALSE(a.result.indeterminate());
}

TEST(ReplyHandling, UndecodableResultIsIgnored) {
  Reply r = refusal(ReplyStatus::ok, 1);
  r.result = {std::byte{9}};
  EXPECT_EQ(operation_reply(r, OpKind::get, 1, 3).kind, Kind::ignore);
}

TEST(ReplyHandling, NotPrimaryRedirectsToPrimaryOfTheView) {
  ReplyAction a = operation_reply(refusal(ReplyStatus::not_primary, 5), OpKind::get, 0, 3);
  EXPECT_EQ(a.kind, Kind::resend);
  EXPECT_EQ(a.target, 2u) << "5 mod 3";
  // A replica naming itself is between views: pause, then ask it again.
  a = operation_reply(refusal(ReplyStatus::not_primary, 5), OpKind::get, 2, 3);
  EXPECT_EQ(a.kind, Kind::pause);
  EXPECT_EQ(a.target, 2u);
}

TEST(ReplyHandling, BusyPausesAtTheSameReplica) {
  const ReplyAction a = operation_reply(refusal(ReplyStatus::busy, 0), OpKind::put, 1, 3);
  EXPECT_EQ(a.kind, Kind::pause);
  EXPECT_EQ(a.target, 1u);
}

TEST(ReplyHandling, EvictedIsIndeterminateInvalidIsDefinite) {
  ReplyAction a = operation_reply(refusal(ReplyStatus::session_evicted, 0), OpKind::put, 0, 3);
  ASSERT_EQ(a.kind, Kind::complete);
  EXPECT_EQ(a.result.status, Status::session_evicted);
  EXPECT_TRUE(a.result.indeterminate());
  EXPECT_NE(a.result.message.find("may or may not"), std::string::npos);
  a = operation_reply(refusal(ReplyStatus::invalid, 0), OpKind::put, 0, 3);
  EXPECT_EQ(a.result.status, Status::invalid_argument);
  EXPECT_FALSE(a.result.indeterminate());
}

TEST(ReplyHandling, RegistrationCarriesTheSessionTwice) {
  Reply r{ViewNumber(0), SessionId(42), RequestNumber(0x8000000000000001), ReplyStatus::ok, {}};
  Writer(r.result).put(std::uint64_t{42});
  ReplyAction a = registration_reply(r, 0, 3);
  EXPECT_EQ(a.kind, Kind::registered);
  EXPECT_EQ(a.session, SessionId(42));

  Reply mismatch = r;
  mismatch.session = SessionId(43);
  EXPECT_EQ(registration_reply(mismatch, 0, 3).kind, Kind::ignore);
  Reply zero = r;
  zero.session = SessionId(0);
  zero.result.clear();
  Writer(zero.result).put(std::uint64_t{0});
  EXPECT_EQ(registration_reply(zero, 0, 3).kind, Kind::ignore);
  Reply truncated = r;
  truncated.result.resize(7);
  EXPECT_EQ(registration_reply(truncated, 0, 3).kind, Kind::ignore);
}

TEST(ReplyHandling, RegistrationRefusals) {
  Reply r{ViewNumber(4), SessionId(0), RequestNumber(99), ReplyStatus::not_primary, {}};
  EXPECT_EQ(registration_reply(r, 0, 3).kind, Kind::resend);
  EXPECT_EQ(registration_reply(r, 0, 3).target, 1u);
  r.status = ReplyStatus::busy;
  EXPECT_EQ(registration_reply(r, 0, 3).kind, Kind::pause);
  r.status = ReplyStatus::invalid;  // the primary's table of pending registrations is full
  EXPECT_EQ(registration_reply(r, 0, 3).kind, Kind::pause);
  r.status = ReplyStatus::session_evicted;
  EXPECT_EQ(registration_reply(r, 0, 3).kind, Kind::ignore);
}

}  // namespace
}  // namespace vsr::client::detail
