#include "replica/core/batch.h"

#include "common/assert.h"
#include "replica/core/limits.h"

namespace vsr {

BatchWriter::BatchWriter(Bytes& body) : body_(body) {
  body_.clear();
  Writer(body_).put(std::uint32_t{0});
}

void BatchWriter::add(SessionId session, RequestNumber request, ByteView operation) {
  VSR_ASSERT(count_ < limits::kBatchRequests);
  Writer w(body_);
  w.put(session.value());
  w.put(request.value());
  w.put_bytes(operation);
  ++count_;
  w.patch(0, count_);
}

bool for_each_item(ByteView body, const std::function<void(const BatchItem&)>& visit) {
  Reader r(body);
  const auto count = r.get<std::uint32_t>();
  if (!r.ok() || count > limits::kBatchRequests) return false;
  for (std::uint32_t i = 0; i < count; ++i) {
    BatchItem item;
    item.session = SessionId(r.get<std::uint64_t>());
    item.request = RequestNumber(r.get<std::uint64_t>());
    item.operation = r.get_bytes(limits::kOperationBytes);
    if (!r.ok()) return false;
    visit(item);
  }
  return r.done();
}

}  // namespace vsr
