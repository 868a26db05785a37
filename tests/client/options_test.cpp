// Range checks of Options (client/src/options_check.h).
#include <gtest/gtest.h>

#include "client/src/options_check.h"

namespace vsr::client::detail {
namespace {

using namespace std::chrono_literals;

TEST(OptionsCheck, DefaultsAreValid) {
  EXPECT_EQ(check_options(Options{}), "");
}

TEST(OptionsCheck, EachBound) {
  auto with = [](auto change) {
    Options o;
    change(o);
    return check_options(o);
  };
  EXPECT_NE(with([](Options& o) { o.cluster = ""; }), "");
  EXPECT_NE(with([](Options& o) { o.cluster = "a/b"; }), "");
  EXPECT_NE(with([](Options& o) { o.cluster = std::string(65, 'c'); }), "");
  EXPECT_NE(with([](Options& o) { o.timeout = 0ms; }), "");
  EXPECT_NE(with([](Options& o) { o.timeout = 3600001ms; }), "");
  EXPECT_NE(with([](Options& o) { o.attempt_timeout = 0ms; }), "");
  EXPECT_NE(with([](Options& o) { o.attempt_timeout = o.timeout + 1ms; }), "");
  EXPECT_EQ(with([](Options& o) { o.attempt_timeout = o.timeout; }), "");
  EXPECT_EQ(with([](Options& o) { o.primary_watch = 0ms; }), "");
  EXPECT_NE(with([](Options& o) { o.primary_watch = o.attempt_timeout + 1ms; }), "");
  EXPECT_EQ(with([](Options& o) { o.primary_watch = o.attempt_timeout; }), "");
  EXPECT_NE(with([](Options& o) { o.busy_pause = 0ms; }), "");
  EXPECT_NE(with([](Options& o) { o.busy_pause = o.busy_pause_max + 1ms; }), "");
  EXPECT_NE(with([](Options& o) { o.busy_pause_max = 10001ms; }), "");
  EXPECT_NE(with([](Options& o) { o.heartbeat_fresh = 0ms; }), "");
  EXPECT_NE(with([](Options& o) { o.queue_max = 0; }), "");
  EXPECT_NE(with([](Options& o) { o.queue_max = kMaxQueue + 1; }), "");
  EXPECT_EQ(check_timeout(1ms), "");
  EXPECT_EQ(check_timeout(0ms), "the timeout is 0 ms; it must be 1 ms to 1 hour");
}

TEST(OptionsCheck, RequireValidThrowsTheMessage) {
  Options o;
  o.cluster = "bad name";
  try {
    require_valid(o);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad name"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vsr::client::detail
