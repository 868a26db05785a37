#include "replica/core/entry.h"

#include <array>
#include <cstring>

#include "common/assert.h"

namespace vsr {

namespace {
// Fixed-layout serialisation of the fields covered by the header checksum.
std::array<std::byte, EntryHeader::kEncodedSize - sizeof(Checksum)> covered_fields(
    const EntryHeader& h) {
  std::array<std::byte, EntryHeader::kEncodedSize - sizeof(Checksum)> out{};
  std::byte* at = out.data();
  auto put = [&at](const auto& v) {
    std::memcpy(at, &v, sizeof(v));
    at += sizeof(v);
  };
  put(h.parent);
  put(h.body_checksum);
  put(h.cluster);
  put(h.view.value());
  put(h.op.value());
  put(h.body_size);
  put(h.reserved);
  VSR_ASSERT(at == out.data() + out.size());
  return out;
}
}  // namespace

Checksum EntryHeader::compute_checksum() const {
  const auto fields = covered_fields(*this);
  return vsr::checksum(fields.data(), fields.size(), /*seed=*/0x656e747279ULL);
}

void EntryHeader::seal(ByteView body) {
  VSR_ASSERT(body.size() <= UINT32_MAX);
  body_size = static_cast<std::uint32_t>(body.size());
  body_checksum = vsr::checksum(body, /*seed=*/0x626f6479ULL);
  checksum = compute_checksum();
}

bool EntryHeader::body_valid(ByteView body) const {
  return body.size() == body_size && vsr::checksum(body, 0x626f6479ULL) == body_checksum;
}

EntryHeader::Encoded EntryHeader::encoded() const {
  Encoded out{};
  std::memcpy(out.data(), &checksum, sizeof(checksum));
  const auto fields = covered_fields(*this);
  static_assert(sizeof(checksum) + fields.size() == kEncodedSize);
  std::memcpy(out.data() + sizeof(checksum), fields.data(), fields.size());
  return out;
}

EntryHeader EntryHeader::decode(Reader& in) {
  EntryHeader h;
  h.checksum = in.get<Checksum>();
  h.parent = in.get<Checksum>();
  h.body_checksum = in.get<Checksum>();
  h.cluster = in.get<std::uint64_t>();
  h.view = ViewNumber(in.get<std::uint64_t>());
  h.op = OpNumber(in.get<std::uint64_t>());
  h.body_size = in.get<std::uint32_t>();
  h.reserved = in.get<std::uint32_t>();
  return h;
}

Checksum root_checksum(std::uint64_t cluster) {
  return checksum(&cluster, sizeof(cluster), /*seed=*/0x726f6f74ULL);
}

}  // namespace vsr
