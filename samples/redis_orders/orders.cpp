#include "orders.hpp"

#include <brook/logger.hpp>

namespace orders {

void declare(brook::redis::broker& broker) {
  auto receipts = broker.publisher(brook::redis::stream_out{.name = "receipts", .maxlen = 10000});
  broker.subscriber("orders")
      .publisher(receipts)
      .description("Counts the units of every order")
      .handle([](const order& o, brook::logger& log) -> receipt {
        std::int32_t units = 0;
        for (auto& i : o.items)
          units += i.qty;
        log.info("order {} with {} units", o.id, units);
        return {o.id, units};
      });
  broker.subscriber(brook::redis::stream{.name = "receipts", .group = "audit"})
      .handle([](const receipt& r, brook::logger& log) { log.info("audited {}", r.order_id); });
}

}  // namespace orders
