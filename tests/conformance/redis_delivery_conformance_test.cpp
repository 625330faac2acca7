// The core's delivery guarantees on every Redis kind, against the real server
// (scripts/services.sh start redis; BROOK_REDIS_URL, default 127.0.0.1:6390).
#include <brook/redis/broker.hpp>

#include "../integration/redis/test_support.hpp"
#include "delivery_conformance.hpp"

using conformance::DeliveryConformance;
using namespace std::chrono_literals;

namespace {

namespace redis = brook::redis;

std::unique_ptr<brook::broker> make_redis() {
  redis::settings s;
  s.block_time = 100ms;
  return std::make_unique<redis::broker>(brook_test::redis_url(), s);
}

std::size_t nothing_kept(brook::broker&, const std::string&, std::size_t) {
  return 0;
}

std::size_t list_length(brook::broker&, const std::string& key, std::size_t) {
  brook_test::admin a;
  return static_cast<std::size_t>(a.integer({"LLEN", key}));
}

/// XREAD keeps its position in the process: what it did not take is the rest of the stream.
std::size_t stream_rest(brook::broker&, const std::string& key, std::size_t received) {
  brook_test::admin a;
  return static_cast<std::size_t>(a.integer({"XLEN", key})) - received;
}

/// A group's entries still on the server: pending (delivered, not acked) + lag (not read).
std::size_t group_backlog(brook::broker&, const std::string& key, std::size_t) {
  brook_test::admin a;
  auto groups = a.run({"XINFO", "GROUPS", key});
  std::size_t n = 0;
  for (std::size_t g = 0; groups && g < groups->elements; ++g) {
    auto* fields = groups->element[g];
    for (std::size_t k = 0; k + 1 < fields->elements; k += 2) {
      std::string name{fields->element[k]->str, fields->element[k]->len};
      if (name == "pending" || name == "lag")
        n += static_cast<std::size_t>(fields->element[k + 1]->integer);
    }
  }
  return n;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    redis, DeliveryConformance,
    ::testing::Values(conformance::delivery_target{.name = "channel",
                                                   .make_broker = make_redis,
                                                   .subscribe_as = redis::channel{},
                                                   .on_broker = nothing_kept,
                                                   .settle = 100ms},
                      conformance::delivery_target{.name = "list",
                                                   .make_broker = make_redis,
                                                   .subscribe_as = redis::list{},
                                                   .publish_as = redis::list_out{},
                                                   .on_broker = list_length},
                      conformance::delivery_target{.name = "stream",
                                                   .make_broker = make_redis,
                                                   .subscribe_as = redis::stream{},
                                                   .publish_as = redis::stream_out{},
                                                   .on_broker = stream_rest,
                                                   .settle = 100ms},
                      conformance::delivery_target{
                          .name = "stream_group",
                          .make_broker = make_redis,
                          .subscribe_as = redis::stream{.group = "dconf", .min_idle = 200ms},
                          .publish_as = redis::stream_out{},
                          .group = "dconf",
                          .on_broker = group_backlog}),
    [](const auto& p) { return p.param.name; });
