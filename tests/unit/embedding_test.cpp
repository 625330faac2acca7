// brook inside a user's CAF system: typed actors as handlers, several brokers on one
// system, and the supervisor a host can monitor (escalation arrives as a down message).
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/caf.hpp>
#include <brook/memory/broker.hpp>
#include <brook/testing/test_broker.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <string>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"
#include "test_types.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tt::order)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tt::receipt)

using namespace std::chrono_literals;
using brook_test_support::eventually;
using tt::order;
using tt::receipt;

namespace {

using pricing = caf::typed_actor<caf::replies_to<order>::with<receipt>>;

pricing::behavior_type pricer(pricing::pointer self, std::int32_t factor) {
  return {[self, factor](const order& o) -> caf::result<receipt> {
    if (o.qty < 0)
      return caf::make_error(caf::sec::invalid_argument, "negative quantity");
    (void)self;
    return receipt{o.id, o.qty * factor};
  }};
}

struct system_fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  void SetUp() override {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

using Embedding = system_fixture;

TEST_F(Embedding, ATypedActorIsAHandlerWithTheCodecAndResultPublishing) {
  auto p = sys->spawn(pricer, 3);
  {
    brook::memory::broker broker;
    broker.subscriber("orders").publisher("receipts").handle(brook::typed_actor_handler(p));
    brook::app app{*sys, broker};
    app.start({.log_level = "off"});
    auto r = broker.request<receipt>("orders", order{"o1", 7, {}});
    EXPECT_EQ(r.id, "o1");
    EXPECT_EQ(r.total, 21);
    // Bad input is rejected by the codec before the actor sees it; a CAF error reply
    // fails the message like a throwing handler.
    EXPECT_FALSE(broker.publish("orders", std::string{R"({"id": 5})"}));
    EXPECT_FALSE(broker.publish("orders", order{"neg", -1, {}}));
    EXPECT_TRUE(eventually([&] {
      auto s = app.stats();
      return !s.empty() && s[0].decode_errors == 1 && s[0].failed == 2;
    }));
    auto s = app.stats()[0];
    EXPECT_EQ(s.processed, 1u);
    app.stop();
  }
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(Embedding, ATypedActorHandlerUnderTheTestBroker) {
  auto p = sys->spawn(pricer, 2);
  {
    brook::memory::broker broker;
    broker.subscriber("orders").publisher("receipts").handle(brook::typed_actor_handler(p));
    brook::testing::test_broker tb{broker};
    EXPECT_FALSE(tb.publish("orders", order{"t", 5, {}}));
    ASSERT_TRUE(eventually([&] { return tb.published<receipt>("receipts").size() == 1; }));
    EXPECT_EQ(tb.published<receipt>("receipts").front().total, 10);
  }
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(Embedding, SeveralBrokersOnTheHostSystem) {
  brook::memory::broker a, b;
  std::atomic<int> on_a{0}, on_b{0};
  a.subscriber("x").handle([&](const std::string&) { ++on_a; });
  b.subscriber("y").handle([&](const std::string&) { ++on_b; });
  brook::app app{*sys, {a, b}};
  app.start({.log_level = "off"});
  EXPECT_FALSE(a.publish("x", std::string{"1"}));
  EXPECT_FALSE(b.publish("y", std::string{"2"}));
  EXPECT_TRUE(eventually([&] { return on_a == 1 && on_b == 1; }));
  EXPECT_EQ(app.connections().size(), 2u);
  app.stop();
}

// The host monitors brook's supervisor: when supervision gives up, the other
// subscribers are drained first (the slow message in flight finishes), then the host
// gets a down message whose reason says why.
TEST_F(Embedding, EscalationReachesTheHostAsADownMessage) {
  brook::memory::broker broker;
  broker.subscriber("fragile").restarts(0, 10s).handle([](const std::string&) {});
  std::atomic<int> slow_done{0};
  broker.subscriber("slow").blocking().handle([&](const std::string&) {
    std::this_thread::sleep_for(300ms);
    ++slow_done;
  });
  brook::app app{*sys, broker};
  app.start({.log_level = "off"});
  auto sup = app.supervisor();
  ASSERT_TRUE(sup);
  caf::scoped_actor host{*sys};
  host->monitor(sup);
  EXPECT_FALSE(broker.publish("slow", std::string{"in flight"}));
  std::this_thread::sleep_for(50ms);
  auto hs = app.runtime()->handler_actors("fragile");
  ASSERT_EQ(hs.size(), 1u);
  caf::anon_send_exit(hs[0], caf::exit_reason::unhandled_exception);  // a crash
  std::string reason;
  host->receive([&](caf::down_msg& m) { reason = sys->render(m.reason); }, caf::after(5s) >> [] {});
  EXPECT_NE(reason.find("giving up"), std::string::npos) << reason;
  EXPECT_EQ(slow_done.load(), 1) << "drained before the supervisor exited";
  EXPECT_EQ(app.wait_for_shutdown(), 70);
  app.stop();
}

}  // namespace
