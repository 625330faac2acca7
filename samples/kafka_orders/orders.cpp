#include "orders.hpp"

#include <brook/logger.hpp>

namespace orders {

void declare(brook::kafka::broker& broker) {
  namespace kafka = brook::kafka;
  auto receipts = broker.publisher(kafka::topic_out{.name = "receipts"});
  broker
      .subscriber(kafka::topic{
          .name = "orders", .group = "billing", .reset = kafka::offset_reset::earliest})
      .publisher(receipts)
      .max_concurrency(4)
      .description("Counts the units of every order")
      .handle([](const order& o, brook::logger& log) -> receipt {
        std::int32_t units = 0;
        for (auto& i : o.items)
          units += i.qty;
        log.info("order {} of {} with {} units", o.id, o.customer, units);
        return {o.id, units};
      });
  broker
      .subscriber(kafka::topic{
          .name = "receipts", .group = "audit", .reset = kafka::offset_reset::earliest})
      .batch(100, std::chrono::milliseconds{20})
      .max_in_flight(200)
      .handle([](const std::vector<receipt>& rs, brook::logger& log) {
        for (auto& r : rs)
          log.info("audited {}", r.order_id);
      });
}

}  // namespace orders
