// Who sends or receives a frame: a replica (by index) or a client slot (by index and the
// slot's generation, which tells this slot's owner apart from earlier owners).
#pragma once

#include <cstdint>

namespace vsr::shm {

struct Endpoint {
  enum class Type : std::uint8_t { replica = 1, client = 2 };

  Type type = Type::replica;
  std::uint32_t index = 0;
  // Client slots only: the slot generation of the owner. Always 0 for replicas.
  std::uint32_t generation = 0;

  static constexpr Endpoint replica(std::uint32_t index) { return {Type::replica, index, 0}; }
  static constexpr Endpoint client(std::uint32_t slot, std::uint32_t generation) {
    return {Type::client, slot, generation};
  }
  constexpr bool is_replica() const { return type == Type::replica; }
  constexpr bool is_client() const { return type == Type::client; }
  constexpr bool operator==(const Endpoint&) const = default;
};

}  // namespace vsr::shm
