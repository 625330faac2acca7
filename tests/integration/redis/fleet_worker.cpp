// The service of the fleet test (fleet_test.sh): a Redis stream group consumer that records
// each message it handled by publishing its id to a list, a little slowly, so a worker
// killed mid-stream holds messages in flight.
//   fleet_worker run --workers 3 --http-port P     the fleet
//   fleet_worker produce N                         publishes N messages to the stream
// environment: BROOK_REDIS_URL, FLEET_STREAM (the stream; the list is FLEET_STREAM:handled)
#include <brook/app.hpp>
#include <brook/redis/broker.hpp>
#include <brook/telemetry/metrics.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  auto* url = std::getenv("BROOK_REDIS_URL");
  auto* stream = std::getenv("FLEET_STREAM");
  if (!stream) {
    std::cerr << "fleet_worker: set FLEET_STREAM\n";
    return 2;
  }
  brook::redis::broker broker{url ? url : "redis://127.0.0.1:6390"};
  if (argc == 3 && std::string{argv[1]} == "produce") {
    brook::app app{broker, {.title = "fleet_producer"}};
    app.start({.log_level = "warn"});
    auto out = broker.publisher(brook::redis::stream_out{.name = stream});
    int n = std::atoi(argv[2]);
    for (int i = 0; i < n; ++i)
      if (auto err = out.publish(std::string{"m"} + std::to_string(i))) {
        std::cerr << "publish failed: " << err.to_string() << '\n';
        return 1;
      }
    app.stop();
    return 0;
  }
  auto handled = broker.publisher(brook::redis::list_out{.name = std::string{stream} + ":handled"});
  broker.subscriber(brook::redis::stream{.name = stream, .group = "fleet", .last_id = "0"})
      .publisher(handled)
      .max_in_flight(8)
      .blocking()
      .handle([](std::string id) {
        std::this_thread::sleep_for(std::chrono::milliseconds{4});
        return id;
      });
  brook::app app{broker, {.title = "fleet_worker"}};
  brook::telemetry::metrics metrics;
  app.observe(metrics.observer());
  return app.run(argc, argv);
}
