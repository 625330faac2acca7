// The brook half of the tracing interop test (tracing_test.sh): answers each message on the
// list `<prefix>.there` on the list `<prefix>.back`, traced and exported over OTLP/HTTP (the
// endpoint from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, as any OpenTelemetry SDK reads it).
//   tracing_worker run --http-port P
// environment: BROOK_REDIS_URL, BROOK_INTEROP_PREFIX
#include <brook/app.hpp>
#include <brook/redis/broker.hpp>
#include <brook/telemetry/tracing.hpp>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  auto* url = std::getenv("BROOK_REDIS_URL");
  auto* prefix = std::getenv("BROOK_INTEROP_PREFIX");
  std::string p = prefix ? prefix : "brook-otel";
  brook::redis::broker broker{url ? url : "redis://127.0.0.1:6390"};
  auto back = broker.publisher(brook::redis::list_out{.name = p + ".back"});
  broker.subscriber(brook::redis::list{.name = p + ".there"})
      .publisher(back)
      .handle([](std::string body) { return body + " answered"; });
  brook::app app{broker, {.title = "brook-peer"}};
  brook::telemetry::tracing tracing;
  app.observe(tracing.observer());
  return app.run(argc, argv);
}
