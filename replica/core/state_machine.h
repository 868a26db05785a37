// The replicated application. The core applies committed operations to it, in op
// order, on every replica; it must be deterministic (same operations, same results).
#pragma once

#include "common/checksum.h"
#include "common/codec.h"

namespace vsr {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Checked by the primary before an operation is ordered: a malformed operation
  // is refused at once rather than logged.
  virtual bool valid(ByteView operation) const = 0;
  // Applies one committed operation; writes its result (cleared by the caller).
  virtual void apply(ByteView operation, Bytes& result) = 0;
  // Appends the whole state; restore() must accept it back.
  virtual void snapshot(Bytes& out) const = 0;
  // Replaces the state; false (and the state unchanged) if the bytes are malformed.
  virtual bool restore(ByteView snapshot) = 0;
  // A digest of the state, equal on replicas that applied the same operations.
  virtual Checksum digest() const = 0;
};

}  // namespace vsr
