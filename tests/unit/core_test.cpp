// Behaviour of the core on the in-memory broker: DI, publishing, request/reply,
// ack policies, exceptions, filters, routers, lifespan, drain, supervision,
// backpressure and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/memory/transport.hpp>
#include <brook/middleware/exceptions.hpp>
#include <brook/testing/test_broker.hpp>
#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <thread>

#include "../support/eventually.hpp"
#include "test_types.hpp"

using namespace std::chrono_literals;
using brook::testing::test_broker;
using tt::order;
using tt::receipt;

namespace {

using brook_test_support::eventually;

struct quiet : ::testing::Environment {
  void SetUp() override { brook::set_log_levels("off"); }
};
const auto* quiet_env = ::testing::AddGlobalTestEnvironment(new quiet);

}  // namespace

TEST(Di, InjectsBodyMessageLoggerContextHeaderPath) {
  brook::memory::broker broker;
  std::string seen;
  broker.subscriber("orders.{region}")
      .handle([&](const order& o, brook::message& m, brook::logger& log, brook::context& ctx,
                  brook::header<"x-retry", int> retry, brook::path<"region"> region,
                  brook::header<"x-opt", std::optional<std::string>> opt) {
        log.debug("ignored");
        ctx.set("k", 1);
        seen = o.id + "|" + std::string{m.channel()} + "|" + std::to_string(*retry) + "|" +
               *region + "|" + (opt->has_value() ? "set" : "unset") + "|" +
               std::to_string(*ctx.get<int>("k"));
      });
  test_broker tb{broker};
  brook::publish_options po;
  po.headers.set("x-retry", "3");
  ASSERT_FALSE(tb.publish("orders.eu", order{"o1", 2, {}}, po));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(seen, "o1|orders.eu|3|eu|unset|1");
}

TEST(Di, MissingRequiredHeaderRejectsTheMessage) {
  brook::memory::broker broker;
  std::atomic<int> calls{0};
  broker.subscriber("in").handle([&](const order&, brook::header<"x-retry", int>) { ++calls; });
  test_broker tb{broker};
  ASSERT_FALSE(tb.publish("in", order{"o1", 1, {}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(tb.stats("in").rejected, 1u);
  EXPECT_EQ(broker.rejected(), 1u);
}

struct counter_service {
  std::atomic<int> made{0};
};

TEST(Di, SingletonAndScopedDependencies) {
  brook::memory::broker broker;
  auto svc = std::make_shared<counter_service>();
  std::atomic<int> scoped_made{0};
  broker.provide<counter_service>(svc);
  broker.provide_scoped<std::string>([&](brook::message& m) {
    ++scoped_made;
    return std::string{m.channel()};
  });
  std::vector<std::string> seen;
  broker.subscriber("in").handle([&](const std::string& body, brook::dep<counter_service> c,
                                     brook::dep<std::string> a, brook::dep<std::string> b) {
    ++c->made;
    seen.push_back(body + ":" + *a + ":" + std::to_string(&*a == &*b));
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  EXPECT_FALSE(tb.publish("in", std::string{"y"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(svc->made, 2);
  EXPECT_EQ(scoped_made, 2);  // once per message, shared within it
  EXPECT_THAT(seen, ::testing::ElementsAre("x:in:1", "y:in:1"));
}

TEST(Di, MissingDependencyFailsAtStartWithAClearError) {
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const order&, brook::dep<counter_service>) {});
  try {
    test_broker tb{broker};
    FAIL() << "start should fail";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("needs brook::dep<counter_service>"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("provide<counter_service>"));
  }
}

TEST(Publishing, ResultGoesToPublishersAndReplyTo) {
  brook::memory::broker broker;
  broker.subscriber("in").publisher("out-a").publisher("out-b").handle([](const order& o) {
    return receipt{o.id, o.qty * 10};
  });
  test_broker tb{broker};
  auto r = tb.request<receipt>("in", order{"o7", 4, {}});
  EXPECT_EQ(r.id, "o7");
  EXPECT_EQ(r.total, 40);
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(tb.published<receipt>("out-a").size(), 1u);
  EXPECT_EQ(tb.published<receipt>("out-b").size(), 1u);
}

TEST(Publishing, CorrelationIdIsInheritedAndResponseSetsHeaders) {
  brook::memory::broker broker;
  broker.subscriber("in").publisher("out").handle([](const order& o) {
    return brook::response<receipt>{receipt{o.id, 1}, {{"x-shard", "7"}}, {}};
  });
  test_broker tb{broker};
  brook::publish_options po;
  po.correlation_id = "corr-1";
  EXPECT_FALSE(tb.publish("in", order{"o1", 1, {}}, po));
  ASSERT_TRUE(tb.wait_idle());
  auto out = tb.published_raw("out");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].correlation_id, "corr-1");
  ASSERT_TRUE(out[0].headers.find("x-shard"));
  EXPECT_EQ(*out[0].headers.find("x-shard"), "7");
  EXPECT_EQ(out[0].content_type, "application/json");
}

TEST(Publishing, PublisherObjectAndRequestTimeout) {
  brook::memory::broker broker;
  auto out = broker.publisher("out");
  broker.subscriber("slow").handle([](const order&) { std::this_thread::sleep_for(300ms); });
  test_broker tb{broker};
  EXPECT_FALSE(out.publish(receipt{"r", 1}));
  EXPECT_EQ(tb.published<receipt>("out").size(), 1u);
  brook::request_options ro;
  ro.timeout = 50ms;
  try {
    tb.request<receipt>("slow", order{"o", 1, {}}, ro);
    FAIL();
  } catch (const brook::request_error& e) {
    EXPECT_EQ(e.code(), brook::errc::timeout);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no reply from 'slow' within 50 ms"));
  }
}

TEST(Publishing, DeferredResultCompletesFromAnotherThread) {
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const order& o) -> brook::deferred<receipt> {
    brook::promise<receipt> p;
    std::thread{[p, o]() mutable {
      std::this_thread::sleep_for(5ms);
      p.set_value(receipt{o.id, 99});
    }}.detach();
    return p.get_deferred();
  });
  test_broker tb{broker};
  EXPECT_EQ(tb.request<receipt>("in", order{"d", 1, {}}).total, 99);
}

TEST(Publishing, BlockingHandlersRunOnTheirOwnThreads) {
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("in").blocking().max_concurrency(2).handle([&](const order&) {
    std::this_thread::sleep_for(20ms);
    ++done;
  });
  test_broker tb{broker};
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(tb.publish("in", order{"b", i, {}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(done, 4);
}

TEST(Routing, WildcardsAndExactNames) {
  brook::memory::broker broker;
  std::atomic<int> star{0}, tail{0}, exact{0};
  broker.subscriber(brook::subscription_spec{.address = "a.*.c", .pattern = true})
      .handle([&](const std::string&) { ++star; });
  broker.subscriber(brook::subscription_spec{.address = "a.>", .pattern = true})
      .handle([&](const std::string&) { ++tail; });
  broker.subscriber("a.b.c").handle([&](const std::string&) { ++exact; });
  test_broker tb{broker};
  for (auto ch : {"a.b.c", "a.x.c", "a.b.d", "a.b.c.d", "b.b.c"})
    EXPECT_FALSE(tb.publish(ch, std::string{"m"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(star, 2);
  EXPECT_EQ(tail, 4);
  EXPECT_EQ(exact, 1);
  EXPECT_TRUE(brook::memory::matches("user-*", "user-42"));
  EXPECT_FALSE(brook::memory::matches("user-*", "order-42"));
}

TEST(Routing, GroupMembersShareMessages) {
  brook::memory::broker broker;
  std::atomic<int> a{0}, b{0};
  broker.subscriber(brook::subscription_spec{.address = "jobs", .group = "workers"})
      .handle([&](const std::string&) { ++a; });
  broker.subscriber(brook::subscription_spec{.address = "jobs", .group = "workers"})
      .handle([&](const std::string&) { ++b; });
  test_broker tb{broker};
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(tb.publish("jobs", std::string{"j"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(a + b, 10);
}

TEST(Filters, FirstMatchingHandlerWinsAndUnmatchedIsRejected) {
  brook::memory::broker broker;
  std::vector<std::string> seen;
  auto sub = broker.subscriber("events");
  sub.handle([&](const std::string& s) { seen.push_back("created:" + s); },
             [](const brook::message& m) {
               auto t = m.header("type");
               return t && *t == "created";
             });
  sub.handle([&](const std::string& s) { seen.push_back("deleted:" + s); },
             [](const brook::message& m) {
               auto t = m.header("type");
               return t && *t == "deleted";
             });
  test_broker tb{broker};
  for (auto t : {"created", "deleted", "other"}) {
    brook::publish_options po;
    po.headers.set("type", t);
    EXPECT_FALSE(tb.publish("events", std::string{t}, po));
  }
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_THAT(seen, ::testing::ElementsAre("created:created", "deleted:deleted"));
  EXPECT_EQ(broker.rejected(), 1u);
}

struct tracing_mw final : brook::middleware::base {
  tracing_mw(std::string n, std::vector<std::string>& log) : name(std::move(n)), out(&log) {}
  void on_receive(brook::message&) override { out->push_back(name + ">"); }
  void after_processed(brook::message&, std::exception_ptr) override { out->push_back("<" + name); }
  void on_publish(brook::outgoing& m) override { m.headers.set("x-by-" + name, "1"); }
  std::string name;
  std::vector<std::string>* out;
};

TEST(Routers, PrefixNestingMiddlewareOrderAndDependencies) {
  std::vector<std::string> log;
  brook::memory::broker broker;
  broker.middleware(std::make_shared<tracing_mw>("broker", log));
  brook::router inner{"orders."};
  inner.middleware(std::make_shared<tracing_mw>("inner", log));
  inner.provide<counter_service>(std::make_shared<counter_service>());
  inner.subscriber("created")
      .publisher("done")
      .middleware(std::make_shared<tracing_mw>("sub", log))
      .handle([&](const order& o, brook::dep<counter_service> c) {
        ++c->made;
        log.push_back("handler");
        return receipt{o.id, c->made};
      });
  brook::router outer{"v2."};
  outer.middleware(std::make_shared<tracing_mw>("outer", log));
  outer.include_router(inner);
  broker.include_router(outer);
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("v2.orders.created", order{"o", 1, {}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_THAT(log, ::testing::ElementsAre("broker>", "outer>", "inner>", "sub>", "handler", "<sub",
                                          "<inner", "<outer", "<broker"));
  auto out = tb.published_raw("v2.orders.done");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].headers.find("x-by-outer"));
}

// -- ack policies ----------------------------------------------------------------

struct ack_case {
  brook::ack_policy policy;
  bool fail;
  std::size_t rejected, redelivered;
};

class AckPolicy : public ::testing::TestWithParam<ack_case> {};

TEST_P(AckPolicy, SettlesAsDocumented) {
  auto c = GetParam();
  brook::memory::broker broker;
  std::atomic<int> calls{0}, redeliveries{0};
  broker.subscriber("in").ack(c.policy).handle([&](const std::string&, brook::message& m) {
    if (m.delivery().redelivered) {
      ++redeliveries;
      return;  // succeed the second time
    }
    ++calls;
    if (c.fail)
      throw std::runtime_error("boom");
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually(
      [&] { return tb.stats("in").processed + tb.stats("in").failed >= 1 + c.redelivered; }));
  tb.wait_idle(1s);
  EXPECT_EQ(broker.rejected(), c.rejected);
  EXPECT_EQ(static_cast<std::size_t>(redeliveries), c.redelivered);
}

INSTANTIATE_TEST_SUITE_P(All, AckPolicy,
                         ::testing::Values(ack_case{brook::ack_policy::ack_first, true, 0, 0},
                                           ack_case{brook::ack_policy::ack, true, 0, 0},
                                           ack_case{brook::ack_policy::reject_on_error, true, 1, 0},
                                           ack_case{brook::ack_policy::reject_on_error, false, 0,
                                                    0},
                                           ack_case{brook::ack_policy::nack_on_error, true, 0, 1}));

TEST(Ack, ManualSettlementAndSettleExceptions) {
  brook::memory::broker broker;
  broker.subscriber("manual").ack(brook::ack_policy::manual).handle([](brook::message& m) {
    m.reject();
  });
  std::atomic<int> second{0};
  broker.subscriber("nack-once").handle([&](brook::message& m) {
    if (!m.delivery().redelivered)
      throw brook::nack_message{};
    ++second;
  });
  broker.subscriber("reject").ack(brook::ack_policy::nack_on_error).handle([](brook::message&) {
    throw brook::reject_message{};
  });
  broker.subscriber("ack").handle([](brook::message&) { throw brook::ack_message{}; });
  test_broker tb{broker};
  for (auto ch : {"manual", "nack-once", "reject", "ack"})
    EXPECT_FALSE(tb.publish(ch, std::string{"x"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(second, 1);
  EXPECT_EQ(broker.rejected(), 2u);  // manual reject + reject_message
}

struct db_timeout : std::runtime_error {
  db_timeout() : std::runtime_error("db timeout") {}
};

TEST(Ack, ExceptionMiddlewareMapsPerType) {
  brook::memory::broker broker;
  auto errors = std::make_shared<brook::middleware::exceptions>();
  std::atomic<int> observed{0};
  errors->on<db_timeout>([](const db_timeout&, brook::message& m) {
    return m.delivery().redelivered ? brook::ack_action::ack : brook::ack_action::nack;
  });
  errors->on<std::logic_error>([&](const std::logic_error&, brook::message&) { ++observed; });
  broker.middleware(errors);
  std::atomic<int> calls{0};
  broker.subscriber("db").handle([&](const std::string&) {
    ++calls;
    throw db_timeout{};
  });
  broker.subscriber("logic").handle([](const std::string&) { throw std::logic_error("bad"); });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("db", std::string{"x"}));
  EXPECT_FALSE(tb.publish("logic", std::string{"x"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(calls, 2);     // nacked once, acked on redelivery
  EXPECT_EQ(observed, 1);  // observed, then the default policy rejects
  EXPECT_EQ(broker.rejected(), 1u);
}

// -- bad input ---------------------------------------------------------------------

TEST(BadInput, MalformedWrongTypeAndOversizeAreRejectedAndServiceContinues) {
  brook::memory::broker broker;
  std::vector<std::string> ok;
  broker.subscriber("in").max_body_bytes(64).handle([&](const order& o) { ok.push_back(o.id); });
  test_broker tb{broker};
  auto raw = [&](std::string body) {
    brook::outgoing m;
    m.channel = "in";
    m.body = std::move(body);
    m.content_type = "application/json";
    broker.get_transport()->publish(std::move(m), [](const brook::error_info&) {});
  };
  raw("{not json");
  raw(R"({"id": 5, "qty": 1})");
  raw(R"({"id": ")" + std::string(100, 'x') + R"(", "qty": 1})");
  EXPECT_FALSE(tb.publish("in", order{"good", 1, {}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_THAT(ok, ::testing::ElementsAre("good"));
  auto s = tb.stats("in");
  EXPECT_EQ(s.decode_errors, 3u);
  EXPECT_EQ(s.rejected, 3u);
  EXPECT_EQ(s.processed, 1u);
}

TEST(BadInput, ErrorLineCarriesTheFieldPath) {
  auto sink = std::make_shared<std::ostringstream>();
  brook::memory::broker broker;
  std::string logged;
  auto errors = std::make_shared<brook::middleware::exceptions>();
  errors->on<brook::decode_failure>(
      [&](const brook::decode_failure& e, brook::message&) { logged = e.error().to_string(); });
  broker.middleware(errors);
  broker.subscriber("in").handle([](const order&) {});
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", boost::json::value{{"id", "a"}, {"qty", "two"}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(logged, "$.qty: expected integer, got string");
  EXPECT_EQ(broker.rejected(), 1u);
}

// -- lifespan, drain, supervision, backpressure -------------------------------------------

TEST(App, LifespanHooksRunInOrder) {
  std::vector<std::string> order_seen;
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const std::string&) {});
  brook::app app{broker, {.title = "t"}};
  app.on_startup([&] { order_seen.push_back("on_startup"); })
      .after_startup([&] { order_seen.push_back("after_startup"); })
      .on_shutdown([&] { order_seen.push_back("on_shutdown"); })
      .after_shutdown([&] { order_seen.push_back("after_shutdown"); });
  app.start();
  EXPECT_TRUE(app.running());
  app.stop();
  EXPECT_THAT(order_seen, ::testing::ElementsAre("on_startup", "after_startup", "on_shutdown",
                                                 "after_shutdown"));
}

TEST(App, GracefulDrainFinishesInFlightMessages) {
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("in").max_concurrency(4).blocking().handle([&](const std::string&) {
    std::this_thread::sleep_for(100ms);
    ++done;
  });
  brook::app app{broker};
  app.start();
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(broker.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] {
    auto s = app.runtime()->stats();
    return s[0].in_flight == 4;
  }));
  app.stop();
  EXPECT_EQ(done, 4);
}

TEST(Supervision, DeadHandlerIsRestartedAndItsMessagesRedelivered) {
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("in").handle([&](const std::string&) { ++done; });
  test_broker tb{broker};
  auto hs = tb.runtime().handler_actors("in");
  ASSERT_EQ(hs.size(), 1u);
  caf::anon_send_exit(hs[0], caf::exit_reason::unhandled_exception);  // a crash
  ASSERT_TRUE(eventually([&] { return tb.stats("in").restarts == 1; }));
  ASSERT_TRUE(eventually([&] {
    auto now = tb.runtime().handler_actors("in");
    return now.size() == 1 && now[0] != hs[0];
  }));
  EXPECT_FALSE(tb.publish("in", std::string{"after restart"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(done, 1);
}

TEST(Supervision, RestartIntensityEscalatesToTheApp) {
  brook::memory::broker broker;
  broker.subscriber("in").restarts(0, 10s).handle([](const std::string&) {});
  brook::app app{broker};
  app.start();
  auto hs = app.runtime()->handler_actors("in");
  ASSERT_EQ(hs.size(), 1u);
  caf::anon_send_exit(hs[0], caf::exit_reason::unhandled_exception);  // a crash
  EXPECT_EQ(app.wait_for_shutdown(), 70);
  EXPECT_FALSE(app.ready());
  app.stop();
}

TEST(Backpressure, SlowHandlerKeepsAtMostMaxInFlightInMemory) {
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("in").max_in_flight(4).handle([&](const std::string&) {
    std::this_thread::sleep_for(2ms);
    ++done;
  });
  test_broker tb{broker};
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  EXPECT_GT(broker.pending(), 50u);  // the rest waits in the broker, not in mailboxes
  ASSERT_TRUE(tb.wait_idle(10s));
  EXPECT_EQ(done, 100);
  EXPECT_LE(tb.stats("in").max_in_flight_seen, 4u);
  EXPECT_EQ(tb.stats("in").max_in_flight_seen, 4u);
}

// -- embedding ---------------------------------------------------------------------

#include <brook/caf.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

namespace {
// Takes an argument on purpose: CAF 0.17 binds an empty spawn-argument tuple
// through a null pointer, which UBSan reports.
caf::behavior billing(caf::event_based_actor*, std::int32_t factor) {
  return {[factor](brook::deliver_msg_atom, const brook::envelope_ptr& env) -> std::string {
    auto o = brook::decode_envelope<order>(*env);
    return brook::codec::to_string(receipt{o.id, o.qty * factor});
  }};
}
}  // namespace

TEST(Embedding, AppOnAUserSystemWithAnActorHandler) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  {
    brook::memory::broker broker;
    auto biller = sys.spawn(billing, 2);
    broker.subscriber("bill").handle_with(brook::actor_handler(biller));
    brook::app app{sys, broker};
    app.start();
    auto r = broker.request<receipt>("bill", order{"e1", 21, {}});
    EXPECT_EQ(r.id, "e1");
    EXPECT_EQ(r.total, 42);
    app.stop();
    caf::anon_send_exit(biller, caf::exit_reason::user_shutdown);
  }
}

TEST(App, SeveralBrokersInOneApp) {
  brook::memory::broker a, b;
  std::atomic<int> on_a{0}, on_b{0};
  a.subscriber("x").handle([&](const std::string&) { ++on_a; });
  b.subscriber("x").handle([&](const std::string&) { ++on_b; });
  brook::app app{{a, b}, {.title = "two"}};
  app.start();
  EXPECT_FALSE(a.publish("x", std::string{"1"}));
  EXPECT_FALSE(b.publish("x", std::string{"2"}));
  EXPECT_FALSE(b.publish("x", std::string{"3"}));
  EXPECT_TRUE(eventually([&] { return on_a == 1 && on_b == 2; }));
  auto spec = app.describe();
  EXPECT_EQ(spec.servers.size(), 2u);
  app.stop();
}

TEST(App, DrainTimeoutHandsUnfinishedMessagesBackToTheBroker) {
  brook::memory::broker broker;
  broker.subscriber("in").blocking().max_in_flight(8).handle(
      [](const std::string&) { std::this_thread::sleep_for(200ms); });
  brook::app app{broker};
  app.start({.graceful_timeout = 50ms, .log_level = "off"});
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(broker.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return app.runtime()->stats()[0].in_flight == 4; }));
  app.stop();
  // None finished within 50 ms. The one running finishes and is acked; the three no
  // handler started are back in the broker and never run: none lost, none run twice.
  EXPECT_EQ(broker.pending(), 3u);
  auto s = app.stats().at(0);
  EXPECT_EQ(s.processed, 1u);
  EXPECT_EQ(s.received, 1u);
  EXPECT_EQ(s.nacked, 3u);
}

TEST(Lifecycle, StopFromAnotherThread) {
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const std::string&) {});
  brook::app app{broker};
  app.start({.log_level = "off"});
  EXPECT_FALSE(broker.publish("in", std::string{"x"}));
  std::thread stopper{[&] { app.stop(); }};
  stopper.join();
  EXPECT_FALSE(app.running());
}

// -- delivery guarantees ---------------------------------------------------------

TEST(Deferred, ABrokenPromiseFailsTheMessageAndReturnsItsCredit) {
  brook::memory::broker broker;
  std::atomic<int> calls{0};
  broker.subscriber("in").max_in_flight(1).handle([&](const std::string&) -> brook::deferred<int> {
    ++calls;
    brook::promise<int> p;
    return p.get_deferred();  // p dies here without a value
  });
  test_broker tb{broker};
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 3; }));
  EXPECT_EQ(calls, 3) << "credit came back after each broken promise";
  EXPECT_TRUE(tb.wait_idle());
}

TEST(Deferred, TimeoutFailsAPendingResult) {
  brook::memory::broker broker;
  std::vector<brook::promise<int>> keep;
  std::mutex mtx;
  broker.subscriber("in").timeout(30ms).handle([&](const std::string&) -> brook::deferred<int> {
    brook::promise<int> p;
    std::lock_guard lock{mtx};
    keep.push_back(p);
    return p.get_deferred();
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 1; }));
  std::lock_guard lock{mtx};
  keep.front().set_value(1);  // too late: ignored
  EXPECT_EQ(tb.stats("in").processed, 0u);
}

struct unit_of_work {
  std::shared_ptr<std::atomic<int>> alive;
  explicit unit_of_work(std::shared_ptr<std::atomic<int>> a) : alive(std::move(a)) { ++*alive; }
  unit_of_work(unit_of_work&& o) noexcept : alive(o.alive) { ++*alive; }
  ~unit_of_work() { --*alive; }
};

TEST(Deferred, ScopedDependenciesLiveUntilTheResultCompletes) {
  brook::memory::broker broker;
  auto alive = std::make_shared<std::atomic<int>>(0);
  broker.provide_scoped<unit_of_work>([alive](brook::message&) { return unit_of_work{alive}; });
  std::optional<brook::promise<int>> pending;
  std::atomic<int> alive_at_completion{-1};
  broker.subscriber("in").handle(
      [&](const std::string&, brook::dep<unit_of_work>) -> brook::deferred<int> {
        brook::promise<int> p;
        pending = p;
        return p.get_deferred();
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").in_flight == 1 && pending; }));
  alive_at_completion = alive->load();
  pending->set_value(1);
  ASSERT_TRUE(eventually([&] { return tb.stats("in").processed == 1; }));
  EXPECT_EQ(alive_at_completion, 1) << "the scoped dependency was still alive";
  EXPECT_TRUE(eventually([&] { return alive->load() == 0; }));
}

TEST(Ack, ManualUnsettledIsNackedAndTheWindowDoesNotFill) {
  brook::memory::broker broker;
  std::atomic<int> first{0}, second{0};
  broker.subscriber("in")
      .max_in_flight(2)
      .ack(brook::ack_policy::manual)
      .handle([&](brook::message& m) {
        if (!m.delivery().redelivered) {
          ++first;  // forgets to settle
          return;
        }
        ++second;
        m.ack();
      });
  test_broker tb{broker};
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(first, 10);
  EXPECT_EQ(second, 10);
  auto s = tb.stats("in");
  EXPECT_EQ(s.nacked, 10u);
  EXPECT_EQ(s.acked, 10u);
}

TEST(Ack, DecodeFailureUnderManualIsRejected) {
  brook::memory::broker broker;
  broker.subscriber("in")
      .ack(brook::ack_policy::manual)
      .handle([](const order&, brook::message& m) { m.ack(); });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"{not json"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(tb.stats("in").rejected, 1u);
  EXPECT_EQ(broker.rejected(), 1u);
}

TEST(Retry, MemoryBrokerCountsAttemptsAndDeadLettersAfterTheLast) {
  brook::memory::broker broker;
  std::vector<std::uint32_t> attempts;
  std::mutex mtx;
  auto dlq = broker.publisher("in.dlq");
  broker.subscriber("in")
      .ack(brook::ack_policy::nack_on_error)
      .retry({.max_attempts = 4, .backoff = {.initial = 1ms, .max = 5ms}})
      .dead_letter(dlq)
      .handle([&](const std::string&, brook::message& m) {
        std::lock_guard lock{mtx};
        attempts.push_back(m.delivery().attempt);
        throw std::runtime_error("poison");
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.published_raw("in.dlq").size() == 1; }));
  ASSERT_TRUE(tb.wait_idle());
  auto dead = tb.published_raw("in.dlq").front();
  EXPECT_EQ(dead.body, "x");
  ASSERT_TRUE(dead.headers.find("x-brook-attempts"));
  EXPECT_EQ(*dead.headers.find("x-brook-attempts"), "4");
  ASSERT_TRUE(dead.headers.find("x-brook-dead-letter-reason"));
  EXPECT_THAT(*dead.headers.find("x-brook-dead-letter-reason"), ::testing::HasSubstr("poison"));
  EXPECT_EQ(*dead.headers.find("x-brook-original-channel"), "in");
  auto s = tb.stats("in");
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.retried, 3u);
  EXPECT_EQ(s.acked, 0u);
  std::lock_guard lock{mtx};
  EXPECT_EQ(attempts.size(), 4u);
}

TEST(Retry, WithoutADeadLetterPublisherTheLastAttemptIsRejected) {
  brook::memory::broker broker;
  std::atomic<int> calls{0};
  broker.subscriber("in")
      .ack(brook::ack_policy::nack_on_error)
      .retry({.max_attempts = 2, .backoff = {.initial = 1ms}})
      .handle([&](const std::string&) {
        ++calls;
        throw std::runtime_error("poison");
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 1; }));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(broker.rejected(), 1u);
}

TEST(Ledger, HandlerDeathOnAMemoryQueueRedeliversAndCountsNothingLost) {
  brook::memory::broker broker;
  std::optional<brook::promise<void>> held;
  std::atomic<int> redelivered{0};
  broker.subscriber("in").handle(
      [&](const std::string&, brook::message& m) -> brook::deferred<void> {
        brook::promise<void> p;
        if (m.delivery().redelivered) {
          ++redelivered;
          p.set_value();
        } else {
          held = p;
        }
        return p.get_deferred();
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").in_flight == 1 && held; }));
  for (auto& h : tb.runtime().handler_actors("in"))
    caf::anon_send_exit(h, caf::exit_reason::unhandled_exception);
  ASSERT_TRUE(eventually([&] { return redelivered == 1; }));
  ASSERT_TRUE(tb.wait_idle());
  auto s = tb.stats("in");
  EXPECT_EQ(s.nacked, 1u);
  EXPECT_EQ(s.dropped_total(), 0u);
  held->set_value();
}

TEST(Limits, PublishingAndConsumingShareTheDefaultBodyLimit) {
  brook::memory::broker broker;
  std::string big(brook::codec_options{}.max_body_bytes + 1, 'x');
  auto err = broker.publish("in", big);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code, brook::errc::invalid_argument);
  EXPECT_THAT(err.message, ::testing::HasSubstr("max_publish_bytes"));
  broker.max_publish_bytes(big.size() + 16);
  EXPECT_FALSE(broker.publish("in", big));
}
