// Little-endian encoding of fixed-width integers and length-prefixed byte strings.
//
// Writer appends to a caller-owned buffer. Reader never reads out of bounds: the
// first short read or oversized length marks it failed, every later read returns
// zero/empty, and the caller checks ok() once at the end. That makes decoding a
// hostile frame safe without a check after every field.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vsr {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_string(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class Writer {
 public:
  // A fresh buffer starts at 64 bytes, not at the first field's 8 (then 16, 32, 64):
  // most messages would otherwise move three times while being encoded.
  explicit Writer(Bytes& out) : out_(out) {
    if (out_.capacity() == 0) out_.reserve(64);
  }

  // insert, not resize + memcpy: resize zero-fills through an out-of-line call first,
  // which cost three times the copy for the 4- and 8-byte fields messages are made of.
  template <typename T>
    requires std::is_integral_v<T>
  void put(T value) {
    static_assert(std::endian::native == std::endian::little, "little-endian hosts only");
    const auto* bytes = reinterpret_cast<const std::byte*>(&value);
    out_.insert(out_.end(), bytes, bytes + sizeof(T));
  }
  void put_raw(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  // A u32 length, then the bytes.
  void put_bytes(ByteView bytes) {
    put(static_cast<std::uint32_t>(bytes.size()));
    put_raw(bytes);
  }
  void put_bytes(std::string_view s) { put_bytes(as_bytes(s)); }
  std::size_t size() const { return out_.size(); }
  // Overwrites a value written earlier (for lengths known only at the end).
  template <typename T>
  void patch(std::size_t at, T value) {
    std::memcpy(out_.data() + at, &value, sizeof(T));
  }

 private:
  Bytes& out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  template <typename T>
    requires std::is_integral_v<T>
  T get() {
    T value{};
    if (!take(sizeof(T))) return value;
    std::memcpy(&value, in_.data() + pos_ - sizeof(T), sizeof(T));
    return value;
  }
  // A u32 length then that many bytes; fails if the length exceeds `max` or the input.
  ByteView get_bytes(std::size_t max) {
    const auto length = get<std::uint32_t>();
    if (!ok_ || length > max) {
      ok_ = false;
      return {};
    }
    return get_raw(length);
  }
  ByteView get_raw(std::size_t length) {
    if (!take(length)) return {};
    return in_.subspan(pos_ - length, length);
  }
  std::string get_string(std::size_t max) {
    const ByteView b = get_bytes(max);
    return std::string(as_string(b));
  }
  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace vsr
