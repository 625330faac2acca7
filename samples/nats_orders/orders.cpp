#include "orders.hpp"

#include <brook/logger.hpp>

namespace orders {

void declare(brook::nats::broker& broker) {
  auto receipts = broker.publisher(brook::nats::jetstream_out{.name = "receipts.created"});
  broker.subscriber("orders.{region}")
      .publisher(receipts)
      .description("Counts the units of every order")
      .handle([](const order& o, brook::path<"region"> region, brook::logger& log) -> receipt {
        std::int32_t units = 0;
        for (auto& i : o.items)
          units += i.qty;
        log.info("order {} from {} with {} units", o.id, *region, units);
        return {o.id, *region, units};
      });
  broker
      .subscriber(brook::nats::jetstream{
          .name = "receipts.created", .stream = "receipts", .durable = "audit", .max_deliver = 5})
      .handle([](const receipt& r, brook::logger& log) { log.info("audited {}", r.order_id); });
}

}  // namespace orders
