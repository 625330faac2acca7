// The redis_orders service: needs redis-server (scripts/services.sh start redis).
//   redis_orders run                                  # serve
//   redis_orders publish orders '{"id":"o1","items":[{"sku":"a","qty":2}]}' --request
//   redis_orders run --http-port 9000                 # + /health, /ready, /metrics, /docs/
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4328 redis_orders run   # + traces (OTLP/HTTP)
// BROOK_REDIS_URL selects the server (default redis://127.0.0.1:6390).
#include <brook/app.hpp>
#include <brook/telemetry/metrics.hpp>
#include <brook/telemetry/tracing.hpp>
#include <cstdlib>
#include <optional>

#include "orders.hpp"

int main(int argc, char** argv) {
  auto* url = std::getenv("BROOK_REDIS_URL");
  brook::redis::broker broker{url ? url : "redis://127.0.0.1:6390"};
  brook::app app{
      broker,
      {.title = "redis_orders", .version = "1.0.0", .description = "Order counting on Redis"}};
  // Prometheus metrics with FastStream's names, served on /metrics with --http-port.
  brook::telemetry::metrics metrics;
  app.observe(metrics.observer());
  // Traces with FastStream's spans when an OTLP endpoint is configured, as for any
  // OpenTelemetry SDK.
  std::optional<brook::telemetry::tracing> tracing;
  if (std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT") ||
      std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    tracing.emplace();
    app.observe(tracing->observer());
  }
  orders::declare(broker);
  return app.run(argc, argv);
}
