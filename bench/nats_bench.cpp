// brook on NATS, mirroring bench/nats_raw.cpp: the same subjects' workloads through a
// broker, an app and typed handlers.
//   throughput     a core subject, at most 1000 published and not yet handled
//   pingpong       one message in flight: the handler publishes the next one
//   js_throughput  JetStream publishes (PubAck window 1000) and a pull subscriber whose
//                  handler's success acks each message
// usage: nats_bench [throughput|pingpong|js_throughput|all]; env BROOK_NATS_URL, N, NPING, NJS
#include <atomic>
#include <brook/app.hpp>
#include <brook/nats/broker.hpp>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "bench_common.hpp"
#include "tick.hpp"

namespace {

using bench::env_or;
using bench::now_ns;
using bench::tick;

std::string url() {
  auto* u = std::getenv("BROOK_NATS_URL");
  return u ? u : "nats://127.0.0.1:4232";
}

/// "brook"; "_asap" with ASAP=1, "_polling" with IDLE_POLLS (run_options::idle_polls).
std::string impl() {
  std::string s = "brook";
  if (env_or("ASAP", 0) != 0)
    s += "_asap";
  if (env_or("IDLE_POLLS", 0) != 0)
    s += "_polling";
  return s;
}

brook::nats::settings settings() {
  brook::nats::settings s;
  s.send_asap = env_or("ASAP", 0) != 0;  // ASAP=1: every publish written on its own
  return s;
}

void throughput(long n) {
  brook::nats::broker broker{url(), settings()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  broker.subscriber("bench.brook.throughput").max_in_flight(1000).handle([&](const tick& t) {
    lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
    got.fetch_add(1, std::memory_order_release);
  });
  brook::app app{broker};
  app.start({.workers = static_cast<std::size_t>(env_or("WORKERS", 1)), .log_level = "warn"});
  auto out = broker.publisher("bench.brook.throughput");
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
  bench::report("throughput", "nats", impl(), static_cast<std::size_t>(n), secs, lat);
}

void pingpong(long n) {
  brook::nats::broker broker{url(), settings()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  constexpr long warmup = 1000;
  std::atomic<long> got{0};
  std::atomic<std::int64_t> measured_from{0};
  auto out = broker.publisher("bench.brook.pingpong");
  broker.subscriber("bench.brook.pingpong").handle([&](const tick& t) {
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
  app.start({.workers = 1,
             .idle_polls = static_cast<std::size_t>(env_or("IDLE_POLLS", 2000)),
             .log_level = "warn"});
  bench::must(out.publish(tick{0, now_ns(), "bench", "pingpong"}));
  while (got.load() < n + warmup)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = static_cast<double>(now_ns() - measured_from.load()) / 1e9;
  app.stop();
  bench::report("pingpong", "nats", impl(), static_cast<std::size_t>(n), secs, lat);
}

void js_throughput(long n) {
  auto stream = "bench-brook-" + std::to_string(now_ns());
  brook::nats::broker broker{url()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  auto subject = "bench.brook.js." + std::to_string(now_ns());
  broker.subscriber(brook::nats::jetstream{.name = subject, .stream = stream, .queue = "brook"})
      .max_in_flight(1000)
      .handle([&](const tick& t) {
        lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
        got.fetch_add(1, std::memory_order_release);
      });
  brook::app app{broker};
  app.start({.workers = 1, .log_level = "warn"});
  auto out = broker.publisher(brook::nats::jetstream_out{.name = subject});
  std::mutex mtx;
  std::condition_variable cv;
  long in_flight = 0;
  auto t0 = bench::clock::now();
  for (long i = 0; i < n; ++i) {
    {
      std::unique_lock lock{mtx};
      cv.wait(lock, [&] { return in_flight < 1000; });
      ++in_flight;
    }
    out.publish_async(tick{i, now_ns(), "bench", "js"}, [&](const brook::error_info& e) {
      bench::must(e);
      std::lock_guard lock{mtx};
      --in_flight;
      cv.notify_one();
    });
  }
  while (got.load(std::memory_order_acquire) < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  app.stop();
  bench::report("js_throughput", "nats", "brook", static_cast<std::size_t>(n), secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "throughput")
    throughput(env_or("N", 200000));
  if (which == "all" || which == "pingpong")
    pingpong(env_or("NPING", 20000));
  if (which == "all" || which == "js_throughput")
    js_throughput(env_or("NJS", 50000));
}
