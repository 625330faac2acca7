// The transport conformance suite on a real Kafka broker in KRaft mode
// (scripts/services.sh start kafka; BROOK_KAFKA_BOOTSTRAP, default 127.0.0.1:9392).
#include <brook/kafka/settings.hpp>
#include <brook/kafka/specs.hpp>
#include <cstdlib>
#include <string>

#include "transport_conformance.hpp"

using conformance::TransportConformance;
using conformance::TransportReconnect;

namespace {

namespace kafka = brook::kafka;

brook::kafka::settings quick(std::string bootstrap) {
  kafka::settings s;
  s.bootstrap = std::move(bootstrap);
  s.poll_wait = std::chrono::milliseconds{50};
  s.consumer_config["session.timeout.ms"] = "6000";
  s.consumer_config["heartbeat.interval.ms"] = "500";
  return s;
}

std::string bootstrap() {
  const char* b = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  return b && *b ? b : "127.0.0.1:9392";
}

std::shared_ptr<brook::transport> make_kafka() { return kafka::make_transport(quick(bootstrap())); }

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    kafka, TransportConformance,
    ::testing::Values(
        // A consumer group: its members compete for the partitions; a nack seeks back
        // and redelivers; what was never taken stays in the log for the next member.
        conformance::target{.name = "topic_group",
                            .make = make_kafka,
                            .subscribe_as = kafka::topic{.reset = kafka::offset_reset::earliest},
                            .publish_as = kafka::topic_out{},
                            .redelivers = true,
                            .settle = std::chrono::milliseconds{200},
                            .fan_out = false,
                            .group = "conf"},
        // No group: every partition from the start, nothing committed, no acks.
        conformance::target{.name = "topic",
                            .make = make_kafka,
                            .subscribe_as = kafka::topic{.reset = kafka::offset_reset::earliest},
                            .publish_as = kafka::topic_out{},
                            .redelivers = false,
                            .settle = std::chrono::milliseconds{200},
                            .keeps_undelivered = false}),
    [](const auto& p) { return p.param.name; });
