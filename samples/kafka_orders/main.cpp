// The kafka_orders service: needs a Kafka broker (scripts/services.sh start kafka).
//   kafka_orders run                                  # serve
//   kafka_orders publish orders '{"id":"o1","customer":"c","items":[{"sku":"a","qty":2}]}'
//   --request
// BROOK_KAFKA_BOOTSTRAP selects the broker (default 127.0.0.1:9392).
#include <brook/app.hpp>
#include <cstdlib>

#include "orders.hpp"

int main(int argc, char** argv) {
  auto* bootstrap = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  brook::kafka::broker broker{bootstrap ? bootstrap : "127.0.0.1:9392"};
  brook::app app{
      broker,
      {.title = "kafka_orders", .version = "1.0.0", .description = "Order counting on Kafka"}};
  orders::declare(broker);
  return app.run(argc, argv);
}
