// The transport conformance suite on the real Redis server (scripts/services.sh start redis).
#include "transport_conformance.hpp"

#include <brook/redis/settings.hpp>

#include <cstdlib>

using conformance::TransportConformance;

namespace {
std::shared_ptr<brook::transport> make_redis() {
  brook::redis::settings s;
  if (auto* url = std::getenv("BROOK_REDIS_URL"))
    s.url = url;
  else
    s.url = "redis://127.0.0.1:6390";
  s.block_time = std::chrono::milliseconds{100};
  return brook::redis::make_transport(s);
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(
  redis, TransportConformance,
  ::testing::Values(
    // Pub/sub has no acks: a nack redelivers nothing (the core counts it as a drop).
    conformance::target{.name = "channel", .make = make_redis, .kind = "channel",
                        .redelivers = false, .settle = std::chrono::milliseconds{100},
                        .keeps_undelivered = false},
    // Lists have no acks either (FastStream: none); their consumers compete.
    conformance::target{.name = "list", .make = make_redis, .kind = "list", .redelivers = false,
                        .fan_out = false},
    // A stream read without a group: fan-out from `$`, no acks.
    conformance::target{.name = "stream", .make = make_redis, .kind = "stream",
                        .redelivers = false, .settle = std::chrono::milliseconds{100},
                        .keeps_undelivered = false},
    // A stream with a group: per-message acks; a nacked entry stays pending and
    // is claimed back once idle (a short min_idle here).
    conformance::target{.name = "stream_group", .make = make_redis, .kind = "stream",
                        .redelivers = true, .settle = std::chrono::milliseconds{100},
                        .fan_out = false, .group = "conf",
                        .options = {{"min_idle_ms", "200"}}}),
  [](const auto& p) { return p.param.name; });
