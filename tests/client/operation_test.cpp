// Argument checks and encoding of operations (client/src/operation.h): nothing the
// store would refuse is ever sent, and the messages name the sizes.
#include <gtest/gtest.h>

#include "client/src/operation.h"
#include "replica/core/kv_operation.h"

namespace vsr::client::detail {
namespace {

TEST(Operation, SizeLimitsAtTheirEdges) {
  EXPECT_EQ(check_op(Op::get(std::string(1, 'k'))), "");
  EXPECT_EQ(check_op(Op::get(std::string(kMaxKeyBytes, 'k'))), "");
  EXPECT_EQ(check_op(Op::put("k", std::string(kMaxValueBytes, 'v'))), "");
  EXPECT_EQ(check_op(Op::put("k", "")), "") << "an empty value is a value";
  EXPECT_EQ(check_op(Op::cas("k", std::string(kMaxValueBytes, 'e'), "")), "");

  EXPECT_EQ(check_op(Op::get("")), "the key is empty (keys are 1 to 256 bytes)");
  EXPECT_EQ(check_op(Op::del(std::string(kMaxKeyBytes + 1, 'k'))),
            "the key is 257 bytes (keys are 1 to 256 bytes)");
  EXPECT_EQ(check_op(Op::append("k", std::string(kMaxValueBytes + 1, 'v'))),
            "the value is 16385 bytes (values are at most 16384 bytes)");
  EXPECT_EQ(check_op(Op::cas("k", std::string(kMaxValueBytes + 1, 'e'), "v")),
            "the expected value is 16385 bytes (values are at most 16384 bytes)");
}

TEST(Operation, FieldsAKindDoesNotTake) {
  // Only hand-built Ops can do this; the factories cannot.
  EXPECT_NE(check_op(Op{OpKind::get, "k", "v", ""}), "");
  EXPECT_NE(check_op(Op{OpKind::del, "k", "", "e"}), "");
  EXPECT_NE(check_op(Op{OpKind::put, "k", "v", "e"}), "");
}

TEST(Operation, EncodesAsTheStoreDecodes) {
  const Op ops[] = {Op::get("k"), Op::put("k", "v"), Op::del("k"), Op::cas("k", "old", "new"),
                    Op::append("k", "tail")};
  const kv::OpKind kinds[] = {kv::OpKind::get, kv::OpKind::put, kv::OpKind::del, kv::OpKind::cas,
                              kv::OpKind::append};
  for (std::size_t i = 0; i < std::size(ops); ++i) {
    const auto decoded = kv::decode_operation(encode_op(ops[i]));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->kind, kinds[i]);
    EXPECT_EQ(decoded->key, ops[i].key);
    EXPECT_EQ(decoded->value, ops[i].value);
    EXPECT_EQ(decoded->expected, ops[i].expected);
  }
  const Op cas = Op::cas("k", "expected", "desired");
  EXPECT_EQ(cas.expected, "expected");
  EXPECT_EQ(cas.value, "desired") << "the factory puts each argument in its field";
}

}  // namespace
}  // namespace vsr::client::detail
