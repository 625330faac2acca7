// The transport conformance suite on the real Redis server (scripts/services.sh start redis).
#include <brook/redis/settings.hpp>
#include <brook/redis/specs.hpp>
#include <cstdlib>

#include "transport_conformance.hpp"

using conformance::TransportConformance;
using conformance::TransportReconnect;

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

namespace redis = brook::redis;

INSTANTIATE_TEST_SUITE_P(
    redis, TransportConformance,
    ::testing::Values(
        // Pub/sub has no acks: a nack redelivers nothing (the core counts it as a drop).
        conformance::target{.name = "channel",
                            .make = make_redis,
                            .subscribe_as = redis::channel{},
                            .publish_as = {},
                            .redelivers = false,
                            .settle = std::chrono::milliseconds{100},
                            .keeps_undelivered = false},
        // Lists have no acks either (FastStream: none); their consumers compete.
        conformance::target{.name = "list",
                            .make = make_redis,
                            .subscribe_as = redis::list{},
                            .publish_as = redis::list_out{},
                            .redelivers = false,
                            .fan_out = false},
        // A stream read without a group: fan-out from `$`, no acks.
        conformance::target{.name = "stream",
                            .make = make_redis,
                            .subscribe_as = redis::stream{},
                            .publish_as = redis::stream_out{},
                            .redelivers = false,
                            .settle = std::chrono::milliseconds{100},
                            .keeps_undelivered = false},
        // A stream with a group: per-message acks; a nacked entry stays pending and
        // is claimed back once idle (a short min_idle here).
        conformance::target{
            .name = "stream_group",
            .make = make_redis,
            .subscribe_as = redis::stream{.group = "conf",
                                          .min_idle = std::chrono::milliseconds{200}},
            .publish_as = redis::stream_out{},
            .redelivers = true,
            .settle = std::chrono::milliseconds{100},
            .fan_out = false,
            .group = "conf"}),
    [](const auto& p) { return p.param.name; });

// The same kinds against a server of their own, restarted inside the test.
namespace {
std::string services(const std::string& args, int port) {
  auto cmd = "BROOK_REDIS_PORT=" + std::to_string(port) + " " BROOK_SERVICES_SH " " + args +
             " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0)
    return "scripts/services.sh " + args + " failed on port " + std::to_string(port);
  return {};
}

conformance::reconnect_target restartable(conformance::target base, int port) {
  base.make = [port] {
    brook::redis::settings s;
    s.url = "redis://127.0.0.1:" + std::to_string(port);
    s.block_time = std::chrono::milliseconds{100};
    s.reconnect_backoff_min = std::chrono::milliseconds{50};
    s.reconnect_backoff_max = std::chrono::milliseconds{300};
    return brook::redis::make_transport(s);
  };
  auto run = [port](const char* what) {
    return [port, what] {
      auto err = services(what, port);
      ASSERT_TRUE(err.empty()) << err;
    };
  };
  return {std::move(base), run("start redis"), run("restart redis"), run("stop redis")};
}
}  // namespace

// Ports of their own (BROOK_CONFORMANCE_REDIS_PORT + n, default 6400 + n): the
// shared server on 6390 and the reconnect tests' servers are never restarted here.
INSTANTIATE_TEST_SUITE_P(
    redis, TransportReconnect,
    ::testing::Values(restartable({.name = "channel",
                                   .make = {},
                                   .subscribe_as = redis::channel{},
                                   .settle = std::chrono::milliseconds{100}},
                                  6400),
                      restartable({.name = "list",
                                   .make = {},
                                   .subscribe_as = redis::list{},
                                   .publish_as = redis::list_out{}},
                                  6401),
                      restartable({.name = "stream",
                                   .make = {},
                                   .subscribe_as = redis::stream{},
                                   .publish_as = redis::stream_out{},
                                   .settle = std::chrono::milliseconds{100}},
                                  6402),
                      restartable({.name = "stream_group",
                                   .make = {},
                                   .subscribe_as = redis::stream{.group = "conf"},
                                   .publish_as = redis::stream_out{},
                                   .settle = std::chrono::milliseconds{100},
                                   .group = "conf"},
                                  6403)),
    [](const auto& p) { return p.param.base.name; });
