// The core's delivery guarantees on Kafka, against a real KRaft broker
// (scripts/services.sh start kafka; BROOK_KAFKA_BOOTSTRAP, default 127.0.0.1:9392).
#include <brook/kafka/broker.hpp>
#include <cstdlib>

#include "../support/kafka_admin.hpp"
#include "delivery_conformance.hpp"

using conformance::DeliveryConformance;
using namespace std::chrono_literals;

namespace {

namespace kafka = brook::kafka;

std::string bootstrap() {
  const char* b = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  return b && *b ? b : "127.0.0.1:9392";
}

std::unique_ptr<brook::broker> make_kafka() {
  kafka::settings s;
  s.poll_wait = 50ms;
  return std::make_unique<kafka::broker>(bootstrap(), s);
}

/// What the group has not committed yet: still in the log for its next member.
std::size_t group_lag(brook::broker&, const std::string& topic, std::size_t) {
  auto lag = brook_test_support::kafka_lag(bootstrap(), "dconf", topic);
  if (lag < 0)
    ADD_FAILURE() << "no answer from Kafka about group dconf on " << topic;
  return lag < 0 ? 0 : static_cast<std::size_t>(lag);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    kafka, DeliveryConformance,
    ::testing::Values(conformance::delivery_target{
        .name = "topic_group",
        .make_broker = make_kafka,
        // The group in the declaration too: the capabilities are the declaration's.
        .subscribe_as = kafka::topic{.group = "dconf", .reset = kafka::offset_reset::earliest},
        .publish_as = kafka::topic_out{},
        .group = "dconf",
        .on_broker = group_lag}),
    [](const auto& p) { return p.param.name; });
