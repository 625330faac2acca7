// The in-memory pipeline benchmark: publish, decode a ~200-byte JSON struct,
// two pass-through middlewares, handler, publish the result, ack — on one
// scheduler thread; the same with a coroutine handler that awaits its publish.
// Plus ping-pong: one request in flight at a time.
#include <atomic>
#include <boost/describe/class.hpp>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/task.hpp>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "bench_common.hpp"
#include "telemetry_toggle.hpp"

namespace {

struct line {
  std::string sku;
  std::int32_t qty = 0;
  double price = 0;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, qty, price))

struct order {
  std::string id;
  std::string customer;
  std::vector<line> items;
  std::string note;
  std::int64_t ts = 0;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, customer, items, note, ts))

struct ack_result {
  std::string id;
  std::int32_t count = 0;
};
BOOST_DESCRIBE_STRUCT(ack_result, (), (id, count))

struct pass_through final : brook::middleware::base {
  void on_receive(brook::message&) override {}
  void after_processed(brook::message&, std::exception_ptr) override {}
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             bench::clock::now().time_since_epoch())
      .count();
}

order sample(std::size_t i) {
  return order{"order-" + std::to_string(i),
               "customer-4711",
               {{"sku-001", 2, 9.99}, {"sku-002", 1, 120.5}, {"sku-003", 5, 0.25}},
               "leave at the door, please",
               now_ns()};
}

// `awaiting`: the handler is a coroutine that awaits the publish of its result (the
// common FastStream shape, `await publisher.publish(x)`) instead of returning it.
void pipeline(std::size_t n, bool awaiting) {
  brook::memory::broker broker;
  std::vector<double> lat;
  lat.reserve(n);
  std::atomic<std::size_t> done{0};
  broker.middleware(std::make_shared<pass_through>());
  broker.middleware(std::make_shared<pass_through>());
  auto acks = broker.publisher("acks");
  auto seen = [&](const order& o) {
    lat.push_back(static_cast<double>(now_ns() - o.ts) / 1000.0);
    done.fetch_add(1, std::memory_order_release);
    return ack_result{o.id, static_cast<std::int32_t>(o.items.size())};
  };
  if (awaiting)
    broker.subscriber("orders").max_in_flight(256).handle([&](const order& o) -> brook::task<> {
      auto err = co_await acks.publish_async(seen(o));
      if (err)
        throw std::runtime_error(err.to_string());
    });
  else
    broker.subscriber("orders").publisher(acks).max_in_flight(256).handle(seen);
  brook::app app{broker};
  bench::observed metrics{app};
  app.start({.workers = 1, .log_level = "warn"});
  auto t0 = bench::clock::now();
  // Closed loop: at most `window` messages between publish and handler, so the
  // latency is the pipeline's, not a queue the publisher built up.
  constexpr std::size_t window = 512;
  for (std::size_t i = 0; i < n; ++i) {
    while (i - done.load(std::memory_order_acquire) >= window)
      std::this_thread::yield();
    bench::must(broker.publish("orders", sample(i)));
  }
  while (done.load(std::memory_order_acquire) < n)
    std::this_thread::sleep_for(std::chrono::microseconds{50});
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  app.stop();
  bench::report(awaiting ? "pipeline_await" : "pipeline", "memory", bench::brook_impl(), n, secs,
                lat);
}

void pingpong(std::size_t n) {
  brook::memory::broker broker;
  broker.subscriber("ping").handle([](const order& o) { return ack_result{o.id, 1}; });
  brook::app app{broker};
  bench::observed metrics{app};
  app.start({.workers = 1, .log_level = "warn"});
  std::vector<double> lat;
  lat.reserve(n);
  for (std::size_t i = 0; i < 1000; ++i)  // warm-up
    broker.request<ack_result>("ping", sample(i));
  auto t0 = bench::clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto s = bench::clock::now();
    broker.request<ack_result>("ping", sample(i));
    lat.push_back(bench::micros(bench::clock::now() - s));
  }
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  app.stop();
  bench::report("pingpong", "memory", bench::brook_impl(), n, secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  std::string only = argc > 2 ? argv[2] : "";
  if (only.empty() || only == "pipeline")
    pipeline(n, false);
  if (only.empty() || only == "pipeline_await")
    pipeline(n, true);
  if (only.empty() || only == "pingpong")
    pingpong(n / 10);
}
