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
    // Pub/sub has no acks: a nack redelivers nothing (documented; counted by the core).
    conformance::target{"channel", make_redis, "channel", false, std::chrono::milliseconds{100}},
    // Lists have no acks either (FastStream: none); their consumers compete.
    conformance::target{"list", make_redis, "list", false, std::chrono::milliseconds{0}, false}),
  [](const auto& p) { return p.param.name; });
