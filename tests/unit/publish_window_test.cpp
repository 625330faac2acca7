// The outbound window: at most max_publish_in_flight publishes are with the driver
// unconfirmed; a producer thread blocks beyond it, a handler's publish waits in order
// without blocking, and confirmations let the rest go.
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/broker.hpp>
#include <brook/memory/broker.hpp>
#include <brook/memory/transport.hpp>
#include <brook/task.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"

using namespace std::chrono_literals;
using brook_test_support::eventually;

namespace {

/// Delivers through the memory transport but confirms publishes to `held.*`
/// channels only when the test says so (a broker that is slow to acknowledge).
class holding final : public brook::transport {
public:
  holding() : inner_(brook::memory::make_transport({})) {}
  std::string_view protocol() const noexcept override { return "holding"; }
  std::unique_ptr<brook::subscription> subscribe(
      const brook::subscription_spec& s, std::shared_ptr<brook::delivery_sink> sink) override {
    return inner_->subscribe(s, std::move(sink));
  }
  void publish(brook::outgoing m, brook::publish_callback done) override {
    if (m.channel.rfind("held.", 0) != 0)
      return inner_->publish(std::move(m), std::move(done));
    std::lock_guard lock{mtx};
    order.push_back(m.body);
    unconfirmed.push_back(std::move(done));
    max_seen = std::max(max_seen, unconfirmed.size());
  }
  std::string open_replies(std::shared_ptr<brook::delivery_sink> sink) override {
    return inner_->open_replies(std::move(sink));
  }
  void close() override { inner_->close(); }
  /// Confirms the oldest `n` held publishes.
  void confirm(std::size_t n) {
    std::vector<brook::publish_callback> now;
    {
      std::lock_guard lock{mtx};
      for (; n > 0 && !unconfirmed.empty(); --n) {
        now.push_back(std::move(unconfirmed.front()));
        unconfirmed.pop_front();
      }
    }
    for (auto& f : now)
      f({});
  }
  std::size_t waiting() {
    std::lock_guard lock{mtx};
    return unconfirmed.size();
  }
  std::mutex mtx;
  std::deque<brook::publish_callback> unconfirmed;
  std::vector<std::string> order;
  std::size_t max_seen = 0;

private:
  std::shared_ptr<brook::memory::memory_transport> inner_;
};

TEST(PublishWindow, AProducerThreadBlocksWhileTheWindowIsFull) {
  auto t = std::make_shared<holding>();
  brook::broker broker{t};
  broker.max_publish_in_flight(3);
  brook::app app{broker};
  app.start({.log_level = "off"});
  std::atomic<int> handed{0}, confirmed{0};
  std::thread producer{[&] {
    auto p = broker.publisher("held.out");
    for (int i = 0; i < 5; ++i) {
      p.publish_async(std::to_string(i), [&](const brook::error_info& e) {
        if (!e)
          ++confirmed;
      });
      ++handed;
    }
  }};
  ASSERT_TRUE(eventually([&] { return t->waiting() == 3; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(handed.load(), 3) << "the fourth publish waits for room";
  auto c = app.connections().at(0);
  EXPECT_EQ(c.publish_window, 3u);
  EXPECT_EQ(c.publish_in_flight, 3u);
  t->confirm(2);
  ASSERT_TRUE(eventually([&] { return handed.load() == 5; }));
  producer.join();
  t->confirm(10);
  EXPECT_TRUE(eventually([&] { return confirmed.load() == 5; }));
  EXPECT_EQ(t->max_seen, 3u);
  EXPECT_EQ(t->order, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_GE(app.connections().at(0).publish_waited, 1u);
  app.stop();
}

// Handlers never block on the window: their publishes queue in order and go out
// as confirmations arrive, while the handler actor keeps serving messages.
TEST(PublishWindow, HandlersQueueInOrderWithoutBlocking) {
  auto t = std::make_shared<holding>();
  brook::broker broker{t};
  broker.max_publish_in_flight(2);
  auto out = broker.publisher("held.out");
  // The input comes through another broker: this test thread is a producer, and on the
  // full window of `broker` it would block (as it should).
  brook::memory::broker input;
  std::atomic<int> started{0}, finished{0};
  input.subscriber("in").max_in_flight(10).handle([&](std::string s) -> brook::task<> {
    ++started;
    auto err = co_await out.publish_async(s);
    if (!err)
      ++finished;
  });
  brook::app app{{input, broker}};
  app.start({.workers = 1, .log_level = "off"});
  for (int i = 0; i < 6; ++i)
    EXPECT_FALSE(input.publish("in", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return started.load() == 6; })) << "no handler blocked";
  EXPECT_EQ(t->waiting(), 2u);
  EXPECT_EQ(finished.load(), 0);
  while (finished.load() < 6) {
    t->confirm(1);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_LE(t->max_seen, 2u);
  ASSERT_EQ(t->order.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(t->order[static_cast<std::size_t>(i)], std::to_string(i));
  app.stop();
}

}  // namespace
