// brook on Kafka, mirroring bench/kafka_raw.cpp: the same workloads through a broker, an
// app and typed handlers (a group subscriber whose successes are committed).
//   throughput  at most 1000 published and not yet handled
//   pingpong    one message in flight: the handler publishes the next one
// usage: kafka_bench [throughput|pingpong|all]; env BROOK_KAFKA_BOOTSTRAP, N, NPING
#include <atomic>
#include <brook/app.hpp>
#include <brook/kafka/broker.hpp>
#include <cstdlib>
#include <thread>

#include "bench_common.hpp"
#include "tick.hpp"

namespace {

using bench::env_or;
using bench::now_ns;
using bench::tick;

std::string bootstrap() {
  auto* b = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  return b ? b : "127.0.0.1:9392";
}

brook::kafka::topic group_topic(const std::string& name) {
  return {.name = name, .group = "brook-" + name, .reset = brook::kafka::offset_reset::earliest};
}

/// Publishes warm-up ticks until one comes back: the group has its partition.
template <class Out>
void warm_up(Out& out, std::atomic<bool>& warmed) {
  while (!warmed.load()) {
    bench::must(out.publish(tick{-1, now_ns(), "bench", "warmup"}));
    for (int i = 0; i < 50 && !warmed.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

void throughput(long n) {
  auto topic = "bench-brook-tp-" + std::to_string(now_ns());
  brook::kafka::broker broker{bootstrap()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  std::atomic<bool> warmed{false};
  broker.subscriber(group_topic(topic)).max_in_flight(1000).handle([&](const tick& t) {
    if (t.seq < 0) {
      warmed = true;
      return;
    }
    lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
    got.fetch_add(1, std::memory_order_release);
  });
  brook::app app{broker};
  app.start({.workers = 1, .log_level = "warn"});
  auto out = broker.publisher(topic);
  warm_up(out, warmed);
  auto t0 = bench::clock::now();
  for (long i = 0; i < n; ++i) {
    while (i - got.load(std::memory_order_acquire) >= 1000)
      std::this_thread::sleep_for(std::chrono::microseconds{50});  // not a spin: 2 cores
    out.publish_async(tick{i, now_ns(), "bench", "throughput"},
                      [](const brook::error_info& e) { bench::must(e); });
  }
  while (got.load(std::memory_order_acquire) < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  app.stop();
  bench::report("throughput", "kafka", "brook", static_cast<std::size_t>(n), secs, lat);
}

void pingpong(long n) {
  auto topic = "bench-brook-pp-" + std::to_string(now_ns());
  brook::kafka::broker broker{bootstrap()};
  std::vector<double> lat;
  constexpr long warmup = 100;
  std::atomic<long> got{0};
  std::atomic<bool> warmed{false};
  std::atomic<std::int64_t> measured_from{0};
  auto out = broker.publisher(topic);
  broker.subscriber(group_topic(topic)).handle([&](const tick& t) {
    if (t.seq < 0) {
      warmed = true;
      return;
    }
    auto k = got.fetch_add(1) + 1;
    if (k > warmup)
      lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
    if (k == warmup)
      measured_from = now_ns();
    if (k < n + warmup)
      out.publish_async(tick{t.seq + 1, now_ns(), "bench", "pingpong"},
                        [](const brook::error_info&) {});
  });
  brook::app app{broker};
  app.start({.workers = 1, .log_level = "warn"});
  warm_up(out, warmed);
  bench::must(out.publish(tick{0, now_ns(), "bench", "pingpong"}));
  while (got.load() < n + warmup)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = static_cast<double>(now_ns() - measured_from.load()) / 1e9;
  app.stop();
  bench::report("pingpong", "kafka", "brook", static_cast<std::size_t>(n), secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "throughput")
    throughput(env_or("N", 100000));
  if (which == "all" || which == "pingpong")
    pingpong(env_or("NPING", 2000));
}
