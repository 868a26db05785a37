// The three parsers, format detection, and the native writer.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <sstream>
#include <string>

#include "check/check.h"
#include "check/parse.h"
#include "check/text.h"

namespace vsr::check {
namespace {

// Expects `text` to be rejected at `line` with a message containing `needle`.
void expect_error(Format format, const std::string& text, std::uint32_t line,
                  const std::string& needle) {
  const ParseResult r = parse(text, format);
  ASSERT_TRUE(r.error.has_value()) << text;
  EXPECT_EQ(r.error->line.value(), line) << r.error->message;
  EXPECT_NE(r.error->message.find(needle), std::string::npos)
      << "message: " << r.error->message << "\nwanted: " << needle;
  EXPECT_EQ(r.history.size(), 0u);
}

History parsed(Format format, const std::string& text) {
  ParseResult r = parse(text, format);
  EXPECT_FALSE(r.error.has_value()) << r.error->line << ": " << r.error->message;
  return std::move(r.history);
}

TEST(ParseNative, ReadsEveryKindOfLine) {
  const History h = parsed(Format::native, R"(# a comment

10 1 invoke put "k" "v"
  # an indented comment
11 1 ok put "k"
12 2 invoke cas "k" "v" nil
13 3 invoke append "k\x00\n" "a\tb\"\\"
14 2 fail cas "k" "w"
15 3 info append "k\x00\n"
16 1 invoke get "k"
17 1 ok get "k" nil
18 4 invoke del "k"
)");
  ASSERT_EQ(h.size(), 5u);
  const OpRecord& put = h.op(OpId{0});
  EXPECT_EQ(put.op.f, Fn::put);
  EXPECT_EQ(put.op.arg, Value("v"));
  EXPECT_EQ(put.outcome, Outcome::ok);
  EXPECT_EQ(put.invoke_line.value(), 3u);
  EXPECT_EQ(put.complete_line.value(), 5u);
  EXPECT_EQ(put.invoke_time.value(), 10u);
  const OpRecord& cas = h.op(OpId{1});
  EXPECT_EQ(cas.op.arg2, Value{});
  EXPECT_EQ(cas.outcome, Outcome::fail);
  EXPECT_TRUE(cas.has_result);
  EXPECT_EQ(cas.result, Value("w"));
  const OpRecord& append = h.op(OpId{2});
  EXPECT_EQ(append.op.key, std::string("k\0\n", 3));
  EXPECT_EQ(append.op.arg, Value("a\tb\"\\"));
  EXPECT_EQ(append.outcome, Outcome::info);
  const OpRecord& get = h.op(OpId{3});
  EXPECT_TRUE(get.has_result);
  EXPECT_EQ(get.result, Value{});
  const OpRecord& del = h.op(OpId{4});
  EXPECT_EQ(del.outcome, Outcome::pending);
  EXPECT_EQ(del.complete_line.value(), 0u);
}

TEST(ParseNative, EventsAreOrderedByTimeStably) {
  // Written out of order: the read's completion (time 5) precedes the write's invoke (time 7).
  const History h = parsed(Format::native, R"(7 1 invoke put "k" "v"
8 1 ok put "k"
1 2 invoke get "k"
5 2 ok get "k" "v"
)");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.op(OpId{0}).op.f, Fn::get);
  EXPECT_EQ(h.op(OpId{0}).invoke_line.value(), 3u);
  EXPECT_EQ(check(h).verdict, Verdict::not_linearizable);

  // Equal times keep file order: the write completes before the read begins.
  const History tie = parsed(Format::native, R"(1 1 invoke put "k" "v"
1 1 ok put "k"
1 2 invoke get "k"
1 2 ok get "k" nil
)");
  EXPECT_EQ(check(tie).verdict, Verdict::not_linearizable);
}

TEST(ParseNative, ErrorsNameTheLine) {
  const std::string ok = "1 1 invoke put \"k\" \"v\"\n";
  expect_error(Format::native, "x 1 invoke get \"k\"\n", 1, "the time");
  expect_error(Format::native, ok + "99999999999999999999 1 ok put \"k\"\n", 2, "the time");
  expect_error(Format::native, ok + "2 -1 ok put \"k\"\n", 2, "the process");
  expect_error(Format::native, ok + "2 1 done put \"k\"\n", 2, "invoke, ok, fail or info");
  expect_error(Format::native, ok + "2 1 ok write \"k\"\n", 2, "get, put, del, cas or append");
  expect_error(Format::native, ok + "2 1 ok put k\n", 2, "the key");
  expect_error(Format::native, ok + "2 1 ok put \"k\n", 2, "unterminated");
  expect_error(Format::native, "1 1 invoke put \"k\" \"\\q\"\n", 1, "unknown escape");
  expect_error(Format::native, "1 1 invoke put \"k\" \"\\x4\"\n", 1, "\\x");
  expect_error(Format::native, "1 1 invoke put \"k\" \"a\"\"b\"\n", 1, "whitespace");
  expect_error(Format::native, "1 1 invoke put \"k\" value\n", 1, "a value");
  expect_error(Format::native, "1 1 invoke cas \"k\" \"a\" \"b\" \"c\"\n", 1, "too many values");
  expect_error(Format::native, "1 1 invoke put \"k\"\n", 1, "one argument");
  expect_error(Format::native, "1 1 invoke get \"k\" \"v\"\n", 1, "no arguments");
  expect_error(Format::native, "1 1 invoke cas \"k\" \"v\"\n", 1, "two arguments");
  expect_error(Format::native, "1 1 invoke put \"k\" nil\n", 1, "not nil");
  expect_error(Format::native, ok + "2 1 invoke get \"k\"\n", 2, "line 1 is outstanding");
  expect_error(Format::native, ok + "2 2 ok put \"k\"\n", 2, "none outstanding");
  expect_error(Format::native, ok + "2 1 ok put \"j\"\n", 2, "does not match the invocation");
  expect_error(Format::native, ok + "2 1 ok get \"k\" \"v\"\n", 2, "does not match");
  expect_error(Format::native, ok + "2 1 fail put \"k\"\n", 2, "put cannot fail");
  expect_error(Format::native, ok + "2 1 ok put \"k\" \"v\"\n", 2, "put ok carries no result");
  expect_error(Format::native, ok + "2 1 info put \"k\" \"v\"\n", 2, "carries no result");
  expect_error(Format::native, "1 1 invoke get \"k\"\n2 1 ok get \"k\"\n", 2, "value read");
  expect_error(Format::native, "1 1 invoke del \"k\"\n2 1 fail del \"k\" nil\n", 2,
               "del fail carries no result");
  expect_error(Format::native, std::string(kMaxLineBytes + 1, '1'), 1, "longer than");
}

TEST(ParseJepsen, ReadsEventsAndSkipsNoise) {
  const History h = parsed(Format::jepsen,
                           "INFO  jepsen.core - starting\n"
                           "INFO  jepsen.util - 0\t:invoke\t:write\t4\n"
                           "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
                           "INFO  jepsen.util - 1\t:invoke\t:cas\t[4 1]\n"
                           "INFO  jepsen.util - 2\t:invoke\t:read\tnil\n"
                           "INFO  jepsen.util - 0\t:ok\t:write\t4\n"
                           "INFO  jepsen.util - 1\t:fail\t:cas\t[4 1]\n"
                           "INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n"
                           "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
                           "INFO  jepsen.util - 3\t:ok\t:read\t4\n"
                           "INFO  jepsen.util - 4\t:invoke\t:write\t0\n"
                           "INFO  jepsen.util - 4\t:info\t:write\t:timed-out\n"
                           "INFO  jepsen.util - 5\t:invoke\t:cas\t[0 2]\n");
  // The timed-out read is dropped.
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.op(OpId{0}).op.f, Fn::put);
  EXPECT_EQ(h.op(OpId{0}).op.key, "register");
  EXPECT_EQ(h.op(OpId{0}).op.arg, Value("4"));
  EXPECT_EQ(h.op(OpId{0}).invoke_line.value(), 2u);
  EXPECT_EQ(h.op(OpId{1}).op.f, Fn::cas);
  EXPECT_EQ(h.op(OpId{1}).op.arg, Value("4"));
  EXPECT_EQ(h.op(OpId{1}).op.arg2, Value("1"));
  EXPECT_EQ(h.op(OpId{1}).outcome, Outcome::fail);
  EXPECT_FALSE(h.op(OpId{1}).has_result);
  EXPECT_EQ(h.op(OpId{2}).result, Value("4"));
  EXPECT_EQ(h.op(OpId{3}).outcome, Outcome::info);
  EXPECT_EQ(h.op(OpId{4}).outcome, Outcome::pending);
  // The failed cas can precede the write it overlaps.
  EXPECT_EQ(check(h).verdict, Verdict::linearizable);
}

TEST(ParseJepsen, ErrorsNameTheLine) {
  const std::string noise = "some noise\n";
  expect_error(Format::jepsen, noise + "INFO  jepsen.util - 0\t:begin\t:read\tnil\n", 2,
               ":invoke, :ok, :fail or :info");
  expect_error(Format::jepsen, noise + "INFO  jepsen.util - 0\t:invoke\t:delete\tnil\n", 2,
               ":read, :write or :cas");
  expect_error(Format::jepsen, "INFO  jepsen.util - 0\t:invoke\t:write\tnil\n", 1, "integer");
  expect_error(Format::jepsen, "INFO  jepsen.util - 0\t:invoke\t:cas\t[1]\n", 1, "[expected new]");
  expect_error(Format::jepsen, "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2] x\n", 1,
               "[expected new]");
  expect_error(Format::jepsen,
               "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
               "INFO  jepsen.util - 0\t:ok\t:read\tfour\n",
               2, "nil or an integer");
  expect_error(Format::jepsen,
               "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
               "INFO  jepsen.util - 0\t:ok\t:write\t3\n",
               2, "does not match");
  expect_error(Format::jepsen, "INFO  jepsen.util - 7\t:ok\t:write\t3\n", 1, "none outstanding");
}

TEST(ParseKv, ReadsMapsWithEmptyInitialValue) {
  const History h = parsed(Format::kv, R"({:process 0, :type :invoke, :f :put, :key "1", :value "a"}
{:process 1, :type :invoke, :f :get, :key "2", :value nil, :time 17}

{:process 0, :type :ok, :f :put, :key "1", :value "a"}
{:process 1 :type :ok :f :get :key "2" :value ""}
{:process 2, :type :invoke, :f :append, :key "1", :value "b"}
{:process 2, :type :info, :f :append, :key "1", :value "b"}
{:process 3, :type :invoke, :f :append, :key "1", :value "c"}
{:process 3, :type :fail, :f :append, :key "1", :value "c"}
)");
  EXPECT_EQ(h.initial_value(), Value(""));
  ASSERT_EQ(h.size(), 3u);  // the failed append is dropped
  EXPECT_EQ(h.op(OpId{1}).result, Value(""));
  EXPECT_EQ(h.op(OpId{1}).complete_line.value(), 5u);
  EXPECT_EQ(h.op(OpId{2}).outcome, Outcome::info);
  EXPECT_EQ(check(h).verdict, Verdict::linearizable);
}

TEST(ParseKv, ErrorsNameTheLine) {
  const std::string ok = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n";
  expect_error(Format::kv, ok + "[:process 0]\n", 2, "'{'");
  expect_error(Format::kv, ok + "{:process 0, :type :ok\n", 2, "unterminated map");
  expect_error(Format::kv, ok + "{process 0}\n", 2, ":keyword");
  expect_error(Format::kv, ok + "{:process 0, :type :ok, :f :get, :key \"1\"}\n", 2,
               "missing :value");
  expect_error(Format::kv, ok + "{:type :ok, :f :get, :key \"1\", :value \"\"}\n", 2,
               "missing :process");
  expect_error(Format::kv, ok + "{:process 0, :type :ok, :f :cas, :key \"1\", :value \"\"}\n", 2,
               ":get, :put or :append");
  expect_error(Format::kv, ok + "{:process 0, :type :done, :f :get, :key \"1\", :value \"\"}\n", 2,
               ":invoke, :ok, :fail or :info");
  expect_error(Format::kv, ok + "{:process 0, :type :ok, :f :get, :key 1, :value \"\"}\n", 2,
               ":key");
  expect_error(Format::kv, ok + "{:process 0, :process 0}\n", 2, "duplicate :process");
  expect_error(Format::kv, ok + "{:process 0, :type :ok, :f :get, :key \"1\", :value \"\"} x\n", 2,
               "after the map");
  expect_error(Format::kv, ok + "{:process 0, :type :ok, :f :get, :key \"1\", :value @}\n", 2,
               "expected a string");
  expect_error(Format::kv, "{:process 0, :type :invoke, :f :put, :key \"1\", :value nil}\n", 1,
               "not nil");
}

TEST(Detect, RecognisesEachFormat) {
  EXPECT_EQ(detect_format("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"), Format::jepsen);
  EXPECT_EQ(detect_format("noise\n2017-01-01 12:00 started\nINFO  jepsen.util - 0\t:invoke\n"),
            Format::jepsen);
  EXPECT_EQ(detect_format("\n  {:process 0, :type :invoke}\n"), Format::kv);
  EXPECT_EQ(detect_format("# comment\n1 2 invoke get \"k\"\n"), Format::native);
  EXPECT_EQ(detect_format("2017-01-01 noise\n5 6 ok get \"k\" nil\n"), Format::native);
  EXPECT_EQ(detect_format(""), Format::native);
}

TEST(Formats, NamesRoundTrip) {
  for (const Format f : {Format::jepsen, Format::kv, Format::native})
    EXPECT_EQ(format_from_name(to_string(f)), f);
  EXPECT_FALSE(format_from_name("edn").has_value());
}

TEST(ParseFile, MissingFileIsAnError) {
  const ParseResult r = parse_file("/nonexistent/history.txt", std::nullopt);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->line.value(), 0u);
  EXPECT_NE(r.error->message.find("cannot read"), std::string::npos) << r.error->message;
}

TEST(WriteNative, RoundTripsThroughTheParser) {
  History h;
  const OpId put = h.invoke(ProcessId{1}, Op::put("k\n\"", std::string("v\0\xff", 3)));
  const OpId cas = h.invoke(ProcessId{2}, Op::cas("k\n\"", std::nullopt, "w"));
  h.complete(put, Outcome::ok);
  h.complete(cas, Outcome::fail, std::string("v\0\xff", 3));
  const OpId get = h.invoke(ProcessId{3}, Op::get("k\n\""), Stamp{Time{100}});
  h.complete(get, Outcome::ok, std::nullopt, Stamp{Time{200}});
  h.invoke(ProcessId{4}, Op::append("other", "x"), Stamp{Time{300}});
  const OpId del = h.invoke(ProcessId{5}, Op::del("other"), Stamp{Time{300}});
  h.complete(del, Outcome::info, Stamp{Time{400}});

  std::ostringstream out;
  h.write_native(out);
  const History back = parsed(Format::native, out.str());
  ASSERT_EQ(back.size(), h.size());
  ASSERT_EQ(back.events().size(), h.events().size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    const OpRecord& a = h.ops()[i];
    const OpRecord& b = back.ops()[i];
    EXPECT_EQ(a.process, b.process);
    EXPECT_EQ(a.op.f, b.op.f);
    EXPECT_EQ(a.op.key, b.op.key);
    EXPECT_EQ(a.op.arg, b.op.arg);
    EXPECT_EQ(a.op.arg2, b.op.arg2);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.has_result, b.has_result);
    EXPECT_EQ(a.result, b.result);
    EXPECT_EQ(a.invoke_time, b.invoke_time);
    EXPECT_EQ(a.invoke_event, b.invoke_event);
    EXPECT_EQ(a.complete_event, b.complete_event);
  }
  EXPECT_EQ(check(back).verdict, check(h).verdict);
  // Without explicit times, the event's index serves as the time.
  EXPECT_EQ(h.op(put).invoke_time.value(), 0u);
  EXPECT_EQ(h.op(put).complete_time.value(), 2u);
}

// Corrupted input gets an error or a history, never a crash (the parsers reach the History's
// invariant checks only through their own validation).
TEST(ParseAnyFormat, SurvivesRandomCorruption) {
  const std::string seeds[] = {
      "1 1 invoke put \"k\" \"v\"\n2 2 invoke cas \"k\" \"v\" nil\n3 1 ok put \"k\"\n"
      "4 2 fail cas \"k\" \"w\"\n5 3 invoke get \"k\"\n6 3 ok get \"k\" \"v\"\n",
      "INFO  jepsen.util - 0\t:invoke\t:cas\t[4 1]\nINFO  jepsen.util - 0\t:fail\t:cas\t[4 1]\n"
      "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t4\n",
      "{:process 0, :type :invoke, :f :append, :key \"1\", :value \"a\"}\n"
      "{:process 0, :type :ok, :f :append, :key \"1\", :value \"a\"}\n"
      "{:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n"
      "{:process 1, :type :ok, :f :get, :key \"1\", :value \"a\"}\n"};
  static constexpr char kAlphabet[] = " \t\n\"\\{}[]:,#0123456789-xnil";
  std::mt19937_64 rng(7);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[i % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (text.size() + 1);
      const char c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          text.insert(at, 1, c);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = c;
          break;
      }
    }
    for (const Format format : {Format::jepsen, Format::kv, Format::native}) {
      const ParseResult r = parse(text, format);
      if (r.error) continue;
      ++parsed;
      Options options;
      options.timeout = std::chrono::milliseconds(100);
      check(r.history, options);
    }
  }
  EXPECT_GT(parsed, 1000);
}

}  // namespace
}  // namespace vsr::check
