#include <brook/memory/broker.hpp>
#include <brook/memory/transport.hpp>

namespace brook::memory {

broker::broker(settings s) : broker(make_transport(s)) {}

broker::broker(std::shared_ptr<memory_transport> t) : brook::broker(t), transport_(std::move(t)) {}

std::size_t broker::pending() const {
  return transport_->pending();
}
std::size_t broker::rejected() const {
  return transport_->rejected();
}

}  // namespace brook::memory
