#pragma once
// The transport conformance suite: what every driver must do at the seam.
// A driver's test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(memory, TransportConformance,
//     ::testing::Values(conformance::target{"memory", [] { return brook::memory::make_transport();
//     }}));
#include <gtest/gtest.h>

#include <atomic>
#include <brook/transport.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace conformance {

struct target {
  std::string name;
  std::function<std::shared_ptr<brook::transport>()> make;
  /// The driver's typed subscription spec (empty = the driver's default kind).
  brook::driver_spec subscribe_as = {};
  /// The typed publish target that reaches it (empty = the default kind).
  brook::driver_spec publish_as = {};
  /// Whether the driver redelivers a nacked message (false for pub/sub-only kinds).
  bool redelivers = true;
  /// Time a subscription needs before it receives (e.g. pub/sub propagation).
  std::chrono::milliseconds settle{0};
  /// Whether each subscription gets its own copy (false: consumers compete, like a list).
  bool fan_out = true;
  /// Consumer group, empty = none.
  std::string group = {};
  /// Whether what a cancelled subscription never took reaches the next subscriber
  /// (lists, groups, queues: yes; pub/sub and XREAD from `$`: no).
  bool keeps_undelivered = true;
};

inline std::ostream& operator<<(std::ostream& os, const target& t) {
  return os << t.name;
}

/// Collects deliveries; thread-safe.
class collecting_sink final : public brook::delivery_sink {
public:
  void deliver(brook::envelope_ptr env) override {
    std::lock_guard lock{mtx_};
    got_.push_back(std::move(env));
    cv_.notify_all();
  }
  void failed(brook::error_info err) override {
    std::lock_guard lock{mtx_};
    failure_ = err.to_string();
    cv_.notify_all();
  }
  void subscribed() override {
    std::lock_guard lock{mtx_};
    subscribed_ = true;
    cv_.notify_all();
  }
  /// Waits until the driver confirmed the subscription (`subscription::reports_ready`).
  bool wait_subscribed(std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    std::unique_lock lock{mtx_};
    return cv_.wait_for(lock, timeout, [&] { return subscribed_; });
  }
  /// Waits until at least `n` deliveries arrived.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    std::unique_lock lock{mtx_};
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  std::vector<brook::envelope_ptr> got() {
    std::lock_guard lock{mtx_};
    return got_;
  }
  std::size_t size() {
    std::lock_guard lock{mtx_};
    return got_.size();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<brook::envelope_ptr> got_;
  std::string failure_;
  bool subscribed_ = false;
};

inline std::string unique_name(const std::string& base) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "conf-" + base + "-" + std::to_string(rng() % 1000000000);
}

class TransportConformance : public ::testing::TestWithParam<target> {
protected:
  void SetUp() override {
    t = GetParam().make();
    ASSERT_FALSE(t->start()) << "transport did not start";
  }
  void TearDown() override { t->close(); }

  brook::subscription_spec spec(const std::string& address) {
    brook::subscription_spec s;
    s.address = address;
    s.group = GetParam().group;
    s.driver = GetParam().subscribe_as;
    return s;
  }
  brook::error_info publish(brook::outgoing m) {
    if (m.driver.empty())
      m.driver = GetParam().publish_as;
    std::promise<brook::error_info> done;
    auto f = done.get_future();
    int calls = 0;
    t->publish(std::move(m), [&](const brook::error_info& e) {
      ++calls;
      done.set_value(e);
    });
    if (f.wait_for(std::chrono::seconds{5}) != std::future_status::ready)
      return {brook::errc::timeout, "publish callback never ran"};
    EXPECT_EQ(calls, 1);
    return f.get();
  }
  brook::outgoing message(const std::string& channel, std::string body) {
    brook::outgoing m;
    m.channel = channel;
    m.body = std::move(body);
    m.content_type = "application/json";
    m.correlation_id = "corr-" + channel;
    return m;
  }
  void settle() { std::this_thread::sleep_for(GetParam().settle); }
  /// Until `sub` takes what is published from now on: its driver's confirmation when it
  /// reports one (a JetStream consumer also makes the stream a publish needs), else `settle`.
  void live(const brook::subscription& sub, collecting_sink& sink) {
    if (sub.reports_ready()) {
      ASSERT_TRUE(sink.wait_subscribed()) << "the subscription was never confirmed";
    }
    settle();
  }

  std::shared_ptr<brook::transport> t;
};

TEST_P(TransportConformance, DeliversBodyHeadersAndIds) {
  auto ch = unique_name("basic");
  auto sink = std::make_shared<collecting_sink>();
  auto sub = t->subscribe(spec(ch), sink);
  sub->request(10);
  settle();
  auto m = message(ch, R"({"a":1})");
  m.reply_to = "somewhere";
  m.headers.set("x-user", "v");
  ASSERT_FALSE(publish(m));
  ASSERT_TRUE(sink->wait_for(1));
  auto e = sink->got().front();
  EXPECT_EQ(e->channel, ch);
  EXPECT_EQ(e->body, R"({"a":1})");
  EXPECT_EQ(e->correlation_id, "corr-" + ch);
  EXPECT_EQ(e->reply_to, "somewhere");
  EXPECT_EQ(e->content_type, "application/json");
  EXPECT_FALSE(e->message_id.empty());
  ASSERT_TRUE(e->headers.find("x-user"));
  EXPECT_EQ(*e->headers.find("x-user"), "v");
  if (e->ack)
    e->ack->ack();
}

TEST_P(TransportConformance, NeverDeliversBeyondCredit) {
  auto ch = unique_name("credit");
  auto sink = std::make_shared<collecting_sink>();
  auto sub = t->subscribe(spec(ch), sink);
  sub->request(3);
  settle();
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(publish(message(ch, std::to_string(i))));
  ASSERT_TRUE(sink->wait_for(3));
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  EXPECT_EQ(sink->size(), 3u);
  sub->request(7);
  ASSERT_TRUE(sink->wait_for(10));
  std::vector<std::string> bodies;
  for (auto& e : sink->got()) {
    bodies.push_back(e->body);
    if (e->ack)
      e->ack->ack();
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
}

// Kinds without acks (pub/sub) must not pretend: a nack there redelivers nothing.
TEST_P(TransportConformance, NackRedeliversAndRejectDoesNot) {
  auto ch = unique_name("nack");
  auto sink = std::make_shared<collecting_sink>();
  auto sub = t->subscribe(spec(ch), sink);
  sub->request(10);
  settle();
  // The capability the core decides by matches what the broker does.
  EXPECT_EQ(sub->capabilities().can_keep(), GetParam().redelivers);
  ASSERT_FALSE(publish(message(ch, "once")));
  ASSERT_TRUE(sink->wait_for(1));
  auto first = sink->got().front();
  if (!GetParam().redelivers) {
    if (first->ack)
      first->ack->nack();
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    EXPECT_EQ(sink->size(), 1u);
    return;
  }
  ASSERT_TRUE(first->ack);
  EXPECT_FALSE(first->delivery.redelivered);
  first->ack->nack();
  ASSERT_TRUE(sink->wait_for(2));
  auto second = sink->got().back();
  EXPECT_EQ(second->body, "once");
  EXPECT_TRUE(second->delivery.redelivered);
  EXPECT_GE(second->delivery.attempt, 2u);
  second->ack->reject();
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_EQ(sink->size(), 2u);
}

// A request carrying reply_to is handed over only once its reply route is
// live, so a responder's reply (published after it got the request) arrives.
TEST_P(TransportConformance, RepliesReachTheReplyRoute) {
  auto sink = std::make_shared<collecting_sink>();
  auto address = t->open_replies(sink);
  ASSERT_FALSE(address.empty());
  // A responder takes the request (on JetStream its subscription also makes the
  // stream a publish needs) and sees where to reply.
  auto request = message(unique_name("rpc"), "ping");
  auto responder = std::make_shared<collecting_sink>();
  auto rsub = t->subscribe(spec(request.channel), responder);
  rsub->request(1);
  live(*rsub, *responder);
  request.reply_to = address;
  ASSERT_FALSE(publish(request));
  ASSERT_TRUE(responder->wait_for(1));
  auto got = responder->got().front();
  EXPECT_EQ(got->reply_to, address);
  if (got->ack)
    got->ack->ack();
  auto m = message(address, "pong");
  m.driver = {};  // replies use the default kind
  std::promise<brook::error_info> done;
  t->publish(m, [&](const brook::error_info& e) { done.set_value(e); });
  ASSERT_FALSE(done.get_future().get());
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_EQ(sink->got().front()->body, "pong");
  EXPECT_EQ(sink->got().front()->correlation_id, "corr-" + address);
}

TEST_P(TransportConformance, FanOutOrCompetingAsTheKindSays) {
  auto ch = unique_name("fanout");
  auto a = std::make_shared<collecting_sink>();
  auto b = std::make_shared<collecting_sink>();
  auto sa = t->subscribe(spec(ch), a);
  auto sb = t->subscribe(spec(ch), b);
  sa->request(5);
  sb->request(5);
  settle();
  ASSERT_FALSE(publish(message(ch, "x")));
  if (GetParam().fan_out) {
    ASSERT_TRUE(a->wait_for(1));
    ASSERT_TRUE(b->wait_for(1));
  } else {  // competing consumers: exactly one gets it
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (a->size() + b->size() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    EXPECT_EQ(a->size() + b->size(), 1u);
  }
  for (auto& s : {a, b})
    for (auto& e : s->got())
      if (e->ack)
        e->ack->ack();
}

// A cancel stops taking work: `done` runs exactly once, nothing is delivered
// after it, and (where the broker keeps them) what was never taken reaches the
// next subscriber. Ledger: delivered before done + taken by the next = published.
TEST_P(TransportConformance, CancelStopsTakingAndLosesNothingKept) {
  auto ch = unique_name("cancel");
  auto sink = std::make_shared<collecting_sink>();
  auto sub = t->subscribe(spec(ch), sink);
  sub->request(2);
  settle();
  constexpr std::size_t total = 6;
  for (std::size_t i = 0; i < total; ++i)
    ASSERT_FALSE(publish(message(ch, std::to_string(i))));
  ASSERT_TRUE(sink->wait_for(2));
  std::atomic<int> done_calls{0};
  std::promise<void> done;
  sub->cancel([&] {
    if (++done_calls == 1)
      done.set_value();
  });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds{5}), std::future_status::ready);
  auto taken = sink->size();
  sub->request(10);  // credit after a cancel is ignored
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_EQ(sink->size(), taken) << "delivered after cancel's done";
  EXPECT_EQ(done_calls, 1);
  for (auto& e : sink->got())
    if (e->ack)
      e->ack->ack();
  auto caps = sub->capabilities();
  sub.reset();
  if (!GetParam().keeps_undelivered) {
    // Pub/sub cannot pause: what it buffered was handed over before done.
    if (!caps.pausable) {
      EXPECT_EQ(taken, total);
    }
    return;
  }
  auto next = std::make_shared<collecting_sink>();
  auto sub2 = t->subscribe(spec(ch), next);
  sub2->request(20);
  ASSERT_TRUE(next->wait_for(total - taken)) << "taken " << taken << ", the rest must be kept";
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  EXPECT_EQ(taken + next->size(), total);
  for (auto& e : next->got())
    if (e->ack)
      e->ack->ack();
}

// close() completes every publish callback exactly once, with ok or an error,
// even for publishes still queued when it is called.
TEST_P(TransportConformance, CloseCompletesEveryCallbackExactlyOnce) {
  auto ch = unique_name("close");
  constexpr int total = 500;
  std::vector<std::atomic<int>> calls(total);
  for (int i = 0; i < total; ++i) {
    auto m = message(ch, std::to_string(i));
    m.driver = GetParam().publish_as;
    t->publish(std::move(m),
               [&calls, i](const brook::error_info&) { ++calls[static_cast<std::size_t>(i)]; });
  }
  t->close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  auto all_once = [&] {
    for (auto& c : calls)
      if (c.load() != 1)
        return false;
    return true;
  };
  while (!all_once() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  for (int i = 0; i < total; ++i)
    ASSERT_EQ(calls[static_cast<std::size_t>(i)].load(), 1) << "publish " << i;
}

}  // namespace conformance

namespace conformance {

/// A target whose server a test may restart: its own server, started and
/// stopped by the hooks (drivers without a server have no such target).
struct reconnect_target {
  target base;
  std::function<void()> start_server;
  std::function<void()> restart_server;
  std::function<void()> stop_server;
};

inline std::ostream& operator<<(std::ostream& os, const reconnect_target& t) {
  return os << t.base.name;
}

/// Collects deliveries and the gaps the driver reports.
class gap_counting_sink final : public brook::delivery_sink {
public:
  void deliver(brook::envelope_ptr env) override { inner.deliver(std::move(env)); }
  void failed(brook::error_info err) override { inner.failed(std::move(err)); }
  void gap(const brook::error_info&) override { ++gaps; }
  collecting_sink inner;
  std::atomic<int> gaps{0};
};

class TransportReconnect : public ::testing::TestWithParam<reconnect_target> {
protected:
  void SetUp() override {
    GetParam().start_server();
    t = GetParam().base.make();
    ASSERT_FALSE(t->start()) << "transport did not start";
  }
  void TearDown() override {
    if (t)
      t->close();
    GetParam().stop_server();
  }
  brook::subscription_spec spec(const std::string& address) {
    return {.address = address,
            .pattern = false,
            .group = GetParam().base.group,
            .driver = GetParam().base.subscribe_as};
  }
  brook::error_info publish(const std::string& channel, std::string body) {
    brook::outgoing m;
    m.channel = channel;
    m.body = std::move(body);
    m.driver = GetParam().base.publish_as;
    std::promise<brook::error_info> done;
    auto f = done.get_future();
    t->publish(std::move(m), [&](const brook::error_info& e) { done.set_value(e); });
    if (f.wait_for(std::chrono::seconds{15}) != std::future_status::ready)
      return {brook::errc::timeout, "publish callback never ran"};
    return f.get();
  }
  std::shared_ptr<brook::transport> t;
};

// After the server restarts, credit still bounds what arrives; what the broker
// kept is delivered once credit allows, and what it cannot keep is reported as
// a gap rather than lost silently.
TEST_P(TransportReconnect, CreditIsHonouredAfterAReconnectAndGapsAreReported) {
  auto ch = unique_name("reconnect");
  auto sink = std::make_shared<gap_counting_sink>();
  auto sub = t->subscribe(spec(ch), sink);
  const auto caps = sub->capabilities();
  sub->request(3);
  std::this_thread::sleep_for(GetParam().base.settle);
  ASSERT_FALSE(publish(ch, "before"));
  ASSERT_TRUE(sink->inner.wait_for(1));
  if (auto first = sink->inner.got().front(); first->ack)
    first->ack->ack();

  GetParam().restart_server();
  // Publishes wait for the reconnect; pub/sub needs its SUBSCRIBE back first.
  ASSERT_FALSE(publish(ch, "probe"));
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(publish(ch, std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  EXPECT_LE(sink->inner.size(), 3u) << "never beyond the credit granted before the restart";
  if (caps.pausable) {
    // A group's members rejoin after the restart first (Kafka: seconds on a loaded machine).
    ASSERT_TRUE(sink->inner.wait_for(3, std::chrono::seconds{30}));
    sub->request(100);
    ASSERT_TRUE(sink->inner.wait_for(12, std::chrono::seconds{30}))
        << "before + probe + 10 kept by the broker";
    std::set<std::string> distinct;
    for (auto& e : sink->inner.got()) {
      distinct.insert(e->body);
      if (e->ack)
        e->ack->ack();
    }
    EXPECT_EQ(distinct.size(), 12u);
  } else {
    EXPECT_GE(sink->gaps.load(), 1) << "the time without a connection is reported";
  }
}

}  // namespace conformance
