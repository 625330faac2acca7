#pragma once
/// @file
/// The in-memory broker: a real broker that lives in the process. Services
/// run on it without any server, and it is the transport the test broker
/// swaps in for every other broker.
///
/// Routing: a message goes to every subscription whose address equals the
/// channel or whose pattern matches it (`orders.*` one segment, `orders.>`
/// the rest, `orders.{region}` with a captured path parameter). Subscribers
/// sharing a `group` compete for messages; others each get a copy. Messages
/// wait in the subscription's queue until the subscriber has credit; a nack
/// puts the message back at the head; a reject drops it (counted).
///
/// @code
/// brook::memory::broker broker;
/// broker.subscriber("orders.{region}").handle([](const order& o, brook::path<"region"> r) { ...
/// }); brook::app app{broker};
/// @endcode
#include <brook/broker.hpp>
#include <brook/memory/settings.hpp>
#include <cstddef>
#include <memory>

namespace brook::memory {

/// Counters and introspection of the in-memory transport.
class memory_transport;

class broker : public brook::broker {
public:
  explicit broker(settings s = {});
  /// Messages queued and not yet delivered, over all subscriptions.
  std::size_t pending() const;
  /// Messages rejected (dead-lettered) so far.
  std::size_t rejected() const;

private:
  explicit broker(std::shared_ptr<memory_transport> t);
  std::shared_ptr<memory_transport> transport_;
};

}  // namespace brook::memory
