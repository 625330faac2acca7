#pragma once
// The caf_host sample: an existing CAF application (its own actor system and
// actors) that adds brook subscribers whose handlers are its actors.
#include <boost/describe/class.hpp>
#include <brook/redis/broker.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <string>

namespace inventory {

/// Asks to take `qty` of `sku` out of stock for `order_id`.
struct reserve {
  std::string order_id;
  std::string sku;
  std::int32_t qty = 0;
};
BOOST_DESCRIBE_STRUCT(reserve, (), (order_id, sku, qty))

/// The answer: whether it was taken, and what is left.
struct reservation {
  std::string order_id;
  std::string sku;
  bool accepted = false;
  std::int32_t left = 0;
};
BOOST_DESCRIBE_STRUCT(reservation, (), (order_id, sku, accepted, left))

}  // namespace inventory

// The messages cross CAF's mailbox inside this process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(inventory::reserve)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(inventory::reservation)

namespace inventory {

/// The host's own actor: the stock per SKU is its state, so it needs no lock.
using stock_actor = caf::typed_actor<caf::replies_to<reserve>::with<reservation>>;

struct stock_state {
  std::map<std::string, std::int32_t> on_hand;
  static inline const char* name = "inventory.stock";
};

stock_actor::behavior_type stock(stock_actor::stateful_pointer<stock_state> self,
                                 std::map<std::string, std::int32_t> initial);

/// brook's part: reservations arrive on the Redis list `reservations`, the stock
/// actor handles them, and its answers go to the stream `reservations.done`.
void declare(brook::redis::broker& broker, const stock_actor& stock);

}  // namespace inventory
