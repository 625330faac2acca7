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

std::shared_ptr<brook::transport> make_kafka() {
  return kafka::make_transport(quick(bootstrap()));
}

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

// A group against a broker of its own, restarted inside the test (its log and the
// group's committed offsets survive the restart, like a production broker's).
namespace {
conformance::reconnect_target restartable(conformance::target base, int port) {
  base.make = [port] { return kafka::make_transport(quick("127.0.0.1:" + std::to_string(port))); };
  auto run = [port](std::string what) {
    return [port, what] {
      auto cmd = "BROOK_KAFKA_PORT=" + std::to_string(port) + " " BROOK_SERVICES_SH " " + what +
                 " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << "scripts/services.sh " << what << " on " << port;
    };
  };
  return {std::move(base), run("start kafka"), run("restart kafka"), run("stop kafka")};
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(kafka, TransportReconnect,
                         ::testing::Values(restartable(
                             {.name = "topic_group",
                              .make = {},
                              .subscribe_as = kafka::topic{.reset = kafka::offset_reset::earliest},
                              .publish_as = kafka::topic_out{},
                              .settle = std::chrono::milliseconds{200},
                              .group = "reconf"},
                             9410)),
                         [](const auto& p) { return p.param.base.name; });
