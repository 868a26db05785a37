// Strong integer types: a ViewNumber cannot be passed where an OpNumber is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace vsr {

template <typename Tag, typename Rep = std::uint64_t>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt next() const { return StrongInt(value_ + 1); }
  constexpr StrongInt prev() const { return StrongInt(value_ - 1); }
  friend std::ostream& operator<<(std::ostream& out, StrongInt v) { return out << v.value_; }

 private:
  Rep value_ = 0;
};

}  // namespace vsr

template <typename Tag, typename Rep>
struct std::hash<vsr::StrongInt<Tag, Rep>> {
  std::size_t operator()(vsr::StrongInt<Tag, Rep> v) const noexcept {
    return std::hash<Rep>{}(v.value());
  }
};
