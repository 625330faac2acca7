// brook on Redis, mirroring bench/redis_raw.cpp: a list, RPUSH publishes
// (a `list_out` target) and a list subscriber with a typed handler.
//   throughput  N small JSON messages published (up to 1000 in flight, like the
//               raw bench's pipelining) while a typed handler consumes them.
//   pingpong    one message in flight: the handler re-publishes on receipt.
//   pingpong_await  the same with a coroutine handler that awaits that publish.
// usage: redis_bench [throughput|pingpong|pingpong_await|all]; env BROOK_REDIS_URL, N, NPING
#include <atomic>
#include <brook/app.hpp>
#include <brook/redis/broker.hpp>
#include <brook/task.hpp>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench_common.hpp"
#include "telemetry_toggle.hpp"
#include "tick.hpp"

namespace {

using bench::env_or;
using bench::now_ns;
using bench::tick;

std::string url() {
  auto* u = std::getenv("BROOK_REDIS_URL");
  return u ? u : "redis://127.0.0.1:6390";
}

void throughput(long n) {
  std::string key = "brook-bench:brook:throughput";
  brook::redis::broker broker{url()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  broker.subscriber(brook::redis::list{.name = key, .batch = 100})
      .max_in_flight(1000)
      .handle([&](const tick& t) {
        lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
        got.fetch_add(1, std::memory_order_release);
      });
  brook::app app{broker};
  bench::observed metrics{app};
  app.start({.workers = static_cast<std::size_t>(env_or("WORKERS", 1)), .log_level = "warn"});
  auto out = broker.publisher(brook::redis::list_out{key});
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
    out.publish_async(tick{i, now_ns(), "bench", "throughput"}, [&](const brook::error_info&) {
      std::lock_guard lock{mtx};
      --in_flight;
      cv.notify_one();
    });
  }
  while (got.load(std::memory_order_acquire) < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  app.stop();
  bench::report("throughput", "redis", bench::brook_impl(), static_cast<std::size_t>(n), secs, lat);
}

// `awaiting`: the handler is a coroutine that awaits the publish of the next message
// (FastStream's `await publisher.publish(x)`), instead of a fire-and-forget publish.
void pingpong(long n, bool awaiting) {
  std::string key = awaiting ? "brook-bench:brook:pingpong-await" : "brook-bench:brook:pingpong";
  brook::redis::broker broker{url()};
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  constexpr long warmup = 1000;
  std::atomic<long> got{0};
  std::atomic<std::int64_t> measured_from{0};
  auto out = broker.publisher(brook::redis::list_out{key});
  // Counts the arrival; true when the next message must go out.
  auto arrived = [&](const tick& t) {
    auto k = got.fetch_add(1) + 1;
    if (k > warmup)
      lat.push_back(static_cast<double>(now_ns() - t.sent_ns) / 1000.0);
    if (k == warmup)
      measured_from = now_ns();
    return k < n + warmup;
  };
  if (awaiting)
    broker.subscriber(brook::redis::list{key}).handle([&](const tick& t) -> brook::task<> {
      if (arrived(t)) {
        tick next{t.seq + 1, now_ns(), "bench",
                  "pingpong"};  // named: see the GCC 12 note in task.hpp
        auto err = co_await out.publish_async(next);
        if (err)
          throw std::runtime_error(err.to_string());
      }
    });
  else
    broker.subscriber(brook::redis::list{key}).handle([&](const tick& t) {
      if (arrived(t))  // the next message goes out the moment this one arrived
        out.publish_async(tick{t.seq + 1, now_ns(), "bench", "pingpong"},
                          [](const brook::error_info&) {});
    });
  brook::app app{broker};
  bench::observed metrics{app};
  app.start({.workers = 1, .log_level = "warn"});
  bench::must(out.publish(tick{0, now_ns(), "bench", "pingpong"}));
  while (got.load() < n + warmup)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = static_cast<double>(now_ns() - measured_from.load()) / 1e9;
  app.stop();
  bench::report(awaiting ? "pingpong_await" : "pingpong", "redis", bench::brook_impl(),
                static_cast<std::size_t>(n), secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "throughput")
    throughput(env_or("N", 200000));
  if (which == "all" || which == "pingpong")
    pingpong(env_or("NPING", 20000), false);
  if (which == "all" || which == "pingpong_await")
    pingpong(env_or("NPING", 20000), true);
}
