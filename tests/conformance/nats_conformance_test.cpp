// The transport conformance suite on a real nats-server with JetStream
// (scripts/services.sh start nats: 127.0.0.1:4232, or BROOK_NATS_URL).
#include <brook/nats/settings.hpp>
#include <brook/nats/specs.hpp>
#include <cstdlib>

#include "nats_streams.hpp"
#include "transport_conformance.hpp"

using conformance::TransportConformance;
using conformance::TransportReconnect;

namespace nats = brook::nats;

namespace {
const std::string stream = conformance::own_stream("conf");

nats::settings quick(std::string url) {
  nats::settings s;
  s.url = std::move(url);
  s.fetch_wait = std::chrono::milliseconds{100};
  s.reconnect_wait = std::chrono::milliseconds{50};
  s.on_event = [](const brook::error_info&) {};
  return s;
}
std::shared_ptr<brook::transport> make_nats() {
  auto* url = std::getenv("BROOK_NATS_URL");
  return nats::make_transport(quick(url ? url : "nats://127.0.0.1:4232"));
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(
    nats, TransportConformance,
    ::testing::Values(
        // Core NATS keeps nothing and cannot pause: a nack redelivers nothing.
        conformance::target{.name = "subject",
                            .make = make_nats,
                            .subscribe_as = nats::subject{},
                            .publish_as = {},
                            .redelivers = false,
                            .settle = std::chrono::milliseconds{50},
                            .keeps_undelivered = false},
        // A queue group: one member gets each message; still nothing kept.
        conformance::target{.name = "subject_queue",
                            .make = make_nats,
                            .subscribe_as = nats::subject{.queue = "conf"},
                            .publish_as = {},
                            .redelivers = false,
                            .settle = std::chrono::milliseconds{50},
                            .fan_out = false,
                            .group = "conf",
                            .keeps_undelivered = false},
        // JetStream with a queue: a durable consumer the subscribers share; acks,
        // NAK redelivers, TERM does not, what was never fetched stays in the stream.
        conformance::target{.name = "jetstream_queue",
                            .make = make_nats,
                            .subscribe_as = nats::jetstream{.stream = stream},
                            .publish_as = nats::jetstream_out{},
                            .redelivers = true,
                            .settle = std::chrono::milliseconds{300},
                            .fan_out = false,
                            .group = "conf"},
        // A push consumer with a deliver group: the server pushes, the credit takes.
        conformance::target{
            .name = "jetstream_push_queue",
            .make = make_nats,
            .subscribe_as = nats::jetstream{.stream = stream, .mode = nats::consumer_mode::push},
            .publish_as = nats::jetstream_out{},
            .redelivers = true,
            .settle = std::chrono::milliseconds{300},
            .fan_out = false,
            .group = "conf"},
        // An ordered consumer: every subscriber replays the stream, no acks.
        conformance::target{
            .name = "jetstream_ordered",
            .make = make_nats,
            .subscribe_as = nats::jetstream{.stream = stream, .mode = nats::consumer_mode::ordered},
            .publish_as = nats::jetstream_out{},
            .redelivers = false,
            .settle = std::chrono::milliseconds{300},
            .keeps_undelivered = false},
        // An ephemeral JetStream consumer per subscription: every subscriber sees all.
        conformance::target{.name = "jetstream",
                            .make = make_nats,
                            .subscribe_as = nats::jetstream{.stream = stream},
                            .publish_as = nats::jetstream_out{},
                            .redelivers = true,
                            .settle = std::chrono::milliseconds{300},
                            .keeps_undelivered = false}),
    [](const auto& p) { return p.param.name; });

// The same kinds against a server of their own, restarted inside the test (its
// JetStream store survives the restart, like a production server's).
namespace {
conformance::reconnect_target restartable(conformance::target base, int port) {
  base.make = [port] {
    return nats::make_transport(quick("nats://127.0.0.1:" + std::to_string(port)));
  };
  auto run = [port](std::string what) {
    return [port, what] {
      auto cmd = "BROOK_NATS_PORT=" + std::to_string(port) + " " BROOK_SERVICES_SH " " + what +
                 " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << "scripts/services.sh " << what << " on " << port;
    };
  };
  return {std::move(base), run("start nats"), run("restart nats"), run("stop nats")};
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(
    nats, TransportReconnect,
    ::testing::Values(
        restartable({.name = "subject",
                     .make = {},
                     .subscribe_as = nats::subject{},
                     .settle = std::chrono::milliseconds{50}},
                    4240),
        restartable({.name = "jetstream_queue",
                     .make = {},
                     .subscribe_as = nats::jetstream{.stream = "reconf"},
                     .publish_as = nats::jetstream_out{},
                     .settle = std::chrono::milliseconds{300},
                     .group = "conf"},
                    4241),
        restartable({.name = "jetstream_push_queue",
                     .make = {},
                     .subscribe_as = nats::jetstream{.stream = "repush",
                                                     .mode = nats::consumer_mode::push},
                     .publish_as = nats::jetstream_out{},
                     .settle = std::chrono::milliseconds{300},
                     .group = "conf"},
                    4243)),
    [](const auto& p) { return p.param.base.name; });
