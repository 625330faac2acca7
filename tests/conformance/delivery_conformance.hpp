#pragma once
// The delivery conformance suite: what the core guarantees on every kind of
// every driver, through a real app. Each test checks the ledger
//   published = handled + still on the broker + dropped (by reason)
// and derives what it expects from the subscription's capabilities, never
// from the broker's name. A driver's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(redis, DeliveryConformance, ::testing::Values(
//     conformance::delivery_target{.name = "list", .make_broker = ..., .subscribe_as =
//     redis::list{}, ...}));
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <brook/app.hpp>
#include <brook/deferred.hpp>
#include <brook/memory/broker.hpp>
#include <brook/telemetry/tracing.hpp>
#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/ledger.hpp"

namespace conformance {

struct delivery_target {
  std::string name;
  /// A fresh broker of the driver under test.
  std::function<std::unique_ptr<brook::broker>()> make_broker;
  /// The driver's typed subscription spec and the publish target that reaches it.
  brook::driver_spec subscribe_as = {};
  brook::driver_spec publish_as = {};
  std::string group = {};
  /// Messages the broker still holds for this subscription on `address`: not
  /// taken yet, or taken and pending (unacknowledged). Read after the app
  /// stopped; `received` is what the subscriber took (for readers that keep
  /// their position in the process, like XREAD: the rest of the stream).
  std::function<std::size_t(brook::broker&, const std::string& address, std::size_t received)>
      on_broker;
  /// Time a new subscription needs before it receives (pub/sub propagation).
  std::chrono::milliseconds settle{0};
};

inline std::ostream& operator<<(std::ostream& os, const delivery_target& t) {
  return os << t.name;
}

using brook_test_support::handled_set;

inline bool eventually(const std::function<bool()>& p,
                       std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
  return brook_test_support::eventually(p, timeout);
}

class DeliveryConformance : public ::testing::TestWithParam<delivery_target> {
protected:
  void SetUp() override {
    broker = GetParam().make_broker();
    thread_local std::mt19937_64 rng{std::random_device{}()};
    address = "dconf-" + GetParam().name + "-" + std::to_string(rng() % 1000000000);
  }
  brook::subscriber_builder subscriber() {
    return broker->subscriber(brook::subscription_spec{.address = address,
                                                       .pattern = false,
                                                       .group = GetParam().group,
                                                       .driver = GetParam().subscribe_as});
  }
  void publish(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_FALSE(broker->publish(address, std::to_string(i), {.driver = GetParam().publish_as}));
  }
  brook::detail::subscriber_snapshot stats(brook::app& app) {
    for (auto& s : app.stats())
      if (s.address == address)
        return s;
    ADD_FAILURE() << "no subscriber on " << address;
    return {};
  }
  /// What the subscription can do, as its spec declares it (the memory queue: acks).
  brook::capabilities caps() const {
    brook::capabilities c{.acks = brook::ack_mode::per_message, .nack_redelivers = true};
    GetParam().subscribe_as.capabilities(c);
    return c;
  }
  std::size_t on_broker(brook::app& app) {
    return GetParam().on_broker(*broker, address, stats(app).received);
  }

  std::unique_ptr<brook::broker> broker;
  std::string address;
};

// A message that fails every time stops at max attempts and reaches the
// dead-letter publisher (here on another broker) with why, where and how often.
TEST_P(DeliveryConformance, PoisonStopsAtMaxAttemptsAndReachesTheDeadLetterPublisher) {
  constexpr int total = 4;
  brook::memory::broker parking;
  std::mutex mtx;
  std::vector<brook::envelope_ptr> parked;
  parking.subscriber("parked").handle([&](brook::message& m) {
    std::lock_guard lock{mtx};
    parked.push_back(m.raw());
  });
  std::atomic<int> calls{0};
  subscriber()
      .retry({.max_attempts = 3,
              .backoff = {.initial = std::chrono::milliseconds{5},
                          .max = std::chrono::milliseconds{20}}})
      .dead_letter(parking.publisher("parked"))
      .handle([&](const std::string&) {
        ++calls;
        throw std::runtime_error("poison: cannot parse the invoice");
      });
  brook::app app{{*broker, parking}};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(GetParam().settle);
  publish(total);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return parked.size() == total;
  }));
  ASSERT_TRUE(eventually([&] { return stats(app).dead_lettered == total; }));
  auto s = stats(app);
  EXPECT_EQ(calls.load(), 3 * total) << "exactly max_attempts runs each";
  EXPECT_EQ(s.retried, 2u * total);
  EXPECT_EQ(s.dropped_total(), 0u);
  std::set<std::string> bodies;
  {
    std::lock_guard lock{mtx};
    for (auto& e : parked) {
      bodies.insert(e->body);
      auto header = [&](std::string_view k) {
        auto* v = e->headers.find(k);
        return v ? *v : std::string{"(missing)"};
      };
      EXPECT_EQ(header("x-brook-attempts"), "3");
      EXPECT_NE(header("x-brook-dead-letter-reason").find("poison"), std::string::npos)
          << header("x-brook-dead-letter-reason");
      EXPECT_EQ(header("x-brook-original-channel"), address);
    }
  }
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(total));
  app.stop();
  EXPECT_EQ(on_broker(app), 0u) << "settled on the broker once dead-lettered";
}

// A graceful stop finishes what the subscriber holds and leaves the rest on
// the broker: nothing that can be kept is lost, and nothing is dropped.
TEST_P(DeliveryConformance, DrainLosesNothing) {
  constexpr int total = 60;
  handled_set handled;
  subscriber().max_in_flight(4).handle([&](const std::string& b) {
    std::this_thread::sleep_for(std::chrono::milliseconds{3});
    handled.add(b);
  });
  brook::app app{*broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(GetParam().settle);
  publish(total);
  ASSERT_TRUE(eventually([&] { return handled.size() >= 5; }));
  app.stop();
  auto s = stats(app);
  auto done = handled.size();
  EXPECT_EQ(handled.calls, done) << "no message handled twice";
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_EQ(done + on_broker(app) + s.dropped_total(), static_cast<std::size_t>(total))
      << done << " handled";
}

// A stop whose drain runs out of time: each message the core took is settled
// exactly once. What a handler started finishes and counts as handled; what no
// handler started goes back to the broker (or is counted as dropped) and is
// never run afterwards. The handler takes 20 ms a message and the stop waits 100.
TEST_P(DeliveryConformance, DrainTimeoutSettlesEachMessageOnce) {
  constexpr int total = 40;
  handled_set handled;
  std::atomic<int> runs{0};
  subscriber().max_in_flight(16).handle([&](const std::string& b) {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    handled.add(b);
  });
  brook::app app{*broker};
  app.start({.graceful_timeout = std::chrono::milliseconds{100}, .log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(GetParam().settle);
  publish(total);
  ASSERT_TRUE(eventually([&] { return handled.size() >= 2; }));
  app.stop();
  auto s = stats(app);
  const auto done = handled.size();
  EXPECT_EQ(runs.load(), static_cast<int>(done)) << "every run that began was finished";
  EXPECT_EQ(handled.calls, done) << "no message handled twice";
  EXPECT_EQ(s.received, done) << "what was given back never reached the handler";
  EXPECT_EQ(s.processed, done) << "a handled message is not also returned or dropped";
  EXPECT_LT(done, static_cast<std::size_t>(total)) << "the stop did not wait for everything";
  if (caps().can_keep()) {
    EXPECT_EQ(s.dropped_total(), 0u);
  }
  // A reader that keeps its position here (XREAD) took what it handled and what it dropped.
  const auto left = GetParam().on_broker(*broker, address, s.received + s.dropped_total());
  EXPECT_EQ(done + left + s.dropped_total(), static_cast<std::size_t>(total))
      << done << " handled, " << s.nacked << " nacked, " << s.dropped_total() << " dropped";
}

// A handler that dies with a message in flight: where the broker can keep it,
// it is nacked and comes back; where it cannot, it is counted as lost.
TEST_P(DeliveryConformance, HandlerDeathRedeliversOrCounts) {
  std::mutex mtx;
  std::vector<brook::promise<void>> held;
  std::atomic<int> runs{0};
  handled_set handled;
  subscriber().handle([&](const std::string& b) {
    if (runs++ == 0) {  // the first run never completes: in flight when its actor dies
      brook::promise<void> p;
      std::lock_guard lock{mtx};
      held.push_back(p);
      return p.get_deferred();
    }
    handled.add(b);
    brook::promise<void> now;
    now.set_value();
    return now.get_deferred();
  });
  brook::app app{*broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(GetParam().settle);
  publish(1);
  ASSERT_TRUE(eventually([&] { return stats(app).in_flight == 1; }));
  for (auto& h : app.runtime()->handler_actors(address))
    caf::anon_send_exit(h, caf::exit_reason::unhandled_exception);
  ASSERT_TRUE(eventually([&] { return stats(app).restarts == 1; }));
  if (caps().can_keep()) {
    EXPECT_TRUE(eventually([&] { return handled.size() == 1; })) << "redelivered after the death";
    EXPECT_EQ(stats(app).nacked, 1u);
    EXPECT_EQ(stats(app).dropped_total(), 0u);
  } else {
    EXPECT_TRUE(eventually([&] { return stats(app).dropped_for("handler_died") == 1; }));
    EXPECT_EQ(stats(app).nacked, 0u) << "not a nack: the broker cannot redeliver";
  }
  {
    std::lock_guard lock{mtx};
    for (auto& p : held)
      p.set_value();
  }
  app.stop();
  auto s = stats(app);
  EXPECT_EQ(handled.size() + on_broker(app) + s.dropped_total(), 1u);
}

}  // namespace conformance

namespace conformance {

// Tracing crosses the broker: the W3C context a publish puts in the headers arrives with the
// message, so each delivery's `process` span is the child of its publish's `create` span,
// in the publisher's trace.
TEST_P(DeliveryConformance, TraceContextCrossesTheBroker) {
  constexpr int total = 3;
  std::mutex mtx;
  std::vector<brook::telemetry::span_data> spans;
  std::vector<std::string> traceparents;
  brook::telemetry::tracing tracing{
      {.exporter = [&](const std::vector<brook::telemetry::span_data>& batch, const std::string&) {
        std::lock_guard lock{mtx};
        spans.insert(spans.end(), batch.begin(), batch.end());
        return true;
      }}};
  handled_set handled;
  subscriber().handle([&](const std::string& s, brook::message& m) {
    {
      std::lock_guard lock{mtx};
      auto* tp = m.header("traceparent");
      traceparents.push_back(tp ? *tp : "(missing)");
    }
    handled.add(s);
  });
  brook::app app{*broker};
  app.observe(tracing.observer());
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(GetParam().settle);
  publish(total);
  ASSERT_TRUE(eventually([&] { return handled.size() == total; }));
  app.stop();  // exports what is queued
  std::lock_guard lock{mtx};
  std::map<std::string, brook::telemetry::span_data> creates;  // by span id
  std::vector<brook::telemetry::span_data> process;
  for (auto& s : spans) {
    if (s.name.ends_with(" create") && s.span_kind == brook::telemetry::span_data::kind::producer)
      creates[s.span_id] = s;
    if (s.name.ends_with(" process"))
      process.push_back(s);
  }
  ASSERT_EQ(creates.size(), static_cast<std::size_t>(total));
  ASSERT_EQ(process.size(), static_cast<std::size_t>(total));
  for (auto& p : process) {
    auto parent = creates.find(p.parent_span_id);
    ASSERT_NE(parent, creates.end()) << p.name << ": parent " << p.parent_span_id;
    EXPECT_EQ(p.trace_id, parent->second.trace_id);
    EXPECT_EQ(std::count(traceparents.begin(), traceparents.end(),
                         "00-" + p.trace_id + "-" + p.parent_span_id + "-01"),
              1)
        << "the delivery carried its publish's context";
  }
}

}  // namespace conformance
