#include "inventory.hpp"

#include <brook/caf.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace inventory {

stock_actor::behavior_type stock(stock_actor::stateful_pointer<stock_state> self,
                                 std::map<std::string, std::int32_t> initial) {
  self->state.on_hand = std::move(initial);
  return {[self](const reserve& r) {
    auto& left = self->state.on_hand[r.sku];
    bool ok = r.qty > 0 && r.qty <= left;
    if (ok)
      left -= r.qty;
    return reservation{r.order_id, r.sku, ok, left};
  }};
}

void declare(brook::redis::broker& broker, const stock_actor& stock) {
  // snippet:caf-host-declare
  broker.subscriber(brook::redis::list{.name = "reservations"})
      .publisher(brook::redis::stream_out{.name = "reservations.done"})
      .handle(brook::typed_actor_handler(stock));
  // end-snippet
}

}  // namespace inventory
