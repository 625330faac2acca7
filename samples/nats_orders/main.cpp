// The nats_orders service: needs nats-server with JetStream (scripts/services.sh start nats).
//   nats_orders run                                   # serve
//   nats_orders publish orders.eu '{"id":"o1","items":[{"sku":"a","qty":2}]}' --request
// BROOK_NATS_URL selects the server (default nats://127.0.0.1:4232).
#include <brook/app.hpp>
#include <cstdlib>

#include "orders.hpp"

int main(int argc, char** argv) {
  auto* url = std::getenv("BROOK_NATS_URL");
  brook::nats::broker broker{url ? url : "nats://127.0.0.1:4232"};
  brook::app app{
      broker,
      {.title = "nats_orders", .version = "1.0.0", .description = "Order counting on NATS"}};
  orders::declare(broker);
  return app.run(argc, argv);
}
