// The built-in key-value store: semantics of every operation, its limits, the
// incremental digest (equal to one recomputed from scratch), and the in-place decoding
// that valid() and apply() use.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "replica/core/kv_store.h"

namespace vsr::kv {
namespace {

Bytes encoded(const Operation& op) {
  Bytes out;
  encode(op, out);
  return out;
}

Result apply(Store& store, const Operation& op) {
  Bytes result;
  store.apply(encoded(op), result);
  auto decoded = decode_result(result);
  EXPECT_TRUE(decoded.has_value());
  return decoded.value_or(Result{});
}

// The digest a store restored from its own snapshot computes from scratch.
Checksum recomputed_digest(const Store& store) {
  Bytes snapshot;
  store.snapshot(snapshot);
  Store copy;
  EXPECT_TRUE(copy.restore(snapshot));
  return copy.digest();
}

TEST(KvStore, EveryOperation) {
  Store s;
  EXPECT_EQ(apply(s, {OpKind::get, "k", {}, {}}).status, ResultStatus::not_found);
  EXPECT_EQ(apply(s, {OpKind::put, "k", "v1", {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::get, "k", {}, {}}).value, "v1");
  // Overwrite with a shorter and then a longer value (in place, then grown).
  EXPECT_EQ(apply(s, {OpKind::put, "k", "x", {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::get, "k", {}, {}}).value, "x");
  EXPECT_EQ(apply(s, {OpKind::put, "k", std::string(100, 'y'), {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::get, "k", {}, {}}).value, std::string(100, 'y'));
  EXPECT_EQ(s.bytes(), 1u + 100u);
  const Result mismatch = apply(s, {OpKind::cas, "k", "new", "wrong"});
  EXPECT_EQ(mismatch.status, ResultStatus::cas_mismatch);
  EXPECT_EQ(mismatch.value, std::string(100, 'y'));
  EXPECT_EQ(apply(s, {OpKind::cas, "k", "new", std::string(100, 'y')}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::append, "k", "+1", {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::append, "fresh", "a", {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::get, "k", {}, {}}).value, "new+1");
  EXPECT_EQ(apply(s, {OpKind::get, "fresh", {}, {}}).value, "a");
  EXPECT_EQ(apply(s, {OpKind::cas, "absent", "v", "x"}).status, ResultStatus::cas_mismatch);
  EXPECT_EQ(apply(s, {OpKind::del, "k", {}, {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::del, "k", {}, {}}).status, ResultStatus::not_found);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.bytes(), 5u + 1u);
}

TEST(KvStore, LimitsRefuseWithoutChangingAnything) {
  Store s(StoreLimits{2, 20});
  EXPECT_EQ(apply(s, {OpKind::put, "a", "1234", {}}).status, ResultStatus::ok);
  EXPECT_EQ(apply(s, {OpKind::put, "b", "1234", {}}).status, ResultStatus::ok);
  const Checksum before = s.digest();
  EXPECT_EQ(apply(s, {OpKind::put, "c", "1", {}}).status, ResultStatus::too_large);  // keys
  EXPECT_EQ(apply(s, {OpKind::put, "a", std::string(20, 'z'), {}}).status,
            ResultStatus::too_large);  // bytes
  EXPECT_EQ(apply(s, {OpKind::append, "a", std::string(kMaxValueBytes, 'z'), {}}).status,
            ResultStatus::too_large);
  EXPECT_EQ(s.digest(), before);
  EXPECT_EQ(apply(s, {OpKind::get, "a", {}, {}}).value, "1234");
}

TEST(KvStore, IncrementalDigestEqualsOneComputedFromScratch) {
  std::mt19937_64 random(7);
  Store s;
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "k" + std::to_string(random() % 50);
    const std::string value(random() % 40, static_cast<char>('a' + random() % 26));
    switch (random() % 5) {
      case 0:
        apply(s, {OpKind::put, key, value, {}});
        break;
      case 1:
        apply(s, {OpKind::del, key, {}, {}});
        break;
      case 2:
        apply(s, {OpKind::append, key, value, {}});
        break;
      case 3:
        apply(s, {OpKind::cas, key, value, apply(s, {OpKind::get, key, {}, {}}).value.value_or("")});
        break;
      default:
        apply(s, {OpKind::get, key, {}, {}});
    }
    if (i % 500 == 0) {
      ASSERT_EQ(s.digest(), recomputed_digest(s)) << "after " << i;
    }
  }
  EXPECT_EQ(s.digest(), recomputed_digest(s));
  // Same pairs, other history: same digest.
  Bytes snapshot;
  s.snapshot(snapshot);
  Store other;
  ASSERT_TRUE(other.restore(snapshot));
  apply(other, {OpKind::put, "tmp", "x", {}});
  apply(other, {OpKind::del, "tmp", {}, {}});
  EXPECT_EQ(other.digest(), s.digest());
}

TEST(KvStore, ValidRejectsWhatDoesNotDecodeOrBreaksARule) {
  Store s;
  EXPECT_TRUE(s.valid(encoded({OpKind::put, "k", "v", {}})));
  EXPECT_FALSE(s.valid(encoded({OpKind::put, "", "v", {}})));             // empty key
  EXPECT_FALSE(s.valid(encoded({OpKind::get, "k", "v", {}})));            // get with a value
  EXPECT_FALSE(s.valid(encoded({OpKind::put, "k", "v", "e"})));           // expected without cas
  EXPECT_FALSE(s.valid(encoded({OpKind::put, std::string(257, 'k'), "v", {}})));
  EXPECT_FALSE(s.valid(encoded({OpKind::put, "k", std::string(kMaxValueBytes + 1, 'v'), {}})));
  Bytes bytes = encoded({OpKind::put, "k", "v", {}});
  bytes[0] = std::byte{9};  // unknown kind
  EXPECT_FALSE(s.valid(bytes));
  bytes = encoded({OpKind::put, "k", "v", {}});
  bytes.pop_back();  // truncated
  EXPECT_FALSE(s.valid(bytes));
  bytes = encoded({OpKind::put, "k", "v", {}});
  bytes.push_back(std::byte{0});  // trailing garbage
  EXPECT_FALSE(s.valid(bytes));
  EXPECT_FALSE(s.valid(ByteView{}));
  // The view decodes to the same fields as the owning decode.
  const Bytes cas = encoded({OpKind::cas, "key", "new", "old"});
  const auto view = decode_operation_view(cas);
  const auto owned = decode_operation(cas);
  ASSERT_TRUE(view && owned);
  EXPECT_EQ(view->key, owned->key);
  EXPECT_EQ(view->value, owned->value);
  EXPECT_EQ(view->expected, owned->expected);
  EXPECT_EQ(view->kind, OpKind::cas);
}

}  // namespace
}  // namespace vsr::kv
