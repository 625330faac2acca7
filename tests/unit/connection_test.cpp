// The connection actor: a driver's connection events become readiness, counters in
// app.connections() and, after a fatal error, a transport restart under the restart
// policy, or an escalation when the driver cannot restart.
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/broker.hpp>
#include <brook/memory/transport.hpp>
#include <memory>
#include <string>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"

using namespace std::chrono_literals;
using brook_test_support::eventually;

namespace {

/// The memory transport with a handle to report events as a driver would.
class scripted final : public brook::transport {
public:
  explicit scripted(bool can_restart)
      : inner_(brook::memory::make_transport({})), can_restart_(can_restart) {}
  std::string_view protocol() const noexcept override { return "scripted"; }
  brook::error_info start() override {
    report(brook::connection_event::kind::connected);
    return {};
  }
  std::unique_ptr<brook::subscription> subscribe(
      const brook::subscription_spec& s, std::shared_ptr<brook::delivery_sink> sink) override {
    return inner_->subscribe(s, std::move(sink));
  }
  void publish(brook::outgoing m, brook::publish_callback done) override {
    inner_->publish(std::move(m), std::move(done));
  }
  std::string open_replies(std::shared_ptr<brook::delivery_sink> sink) override {
    return inner_->open_replies(std::move(sink));
  }
  void close() override { inner_->close(); }
  brook::error_info restart() override {
    ++restarts;
    if (!can_restart_)
      return {brook::errc::unsupported, "scripted: cannot restart"};
    report(brook::connection_event::kind::restored);
    return {};
  }
  void fire(brook::connection_event::kind k, brook::error_info why = {}) {
    report(k, std::move(why));
  }
  std::atomic<int> restarts{0};

private:
  std::shared_ptr<brook::memory::memory_transport> inner_;
  bool can_restart_;
};

/// A started service with one subscriber on a scripted transport.
struct service {
  explicit service(bool can_restart) : t(std::make_shared<scripted>(can_restart)), broker(t) {
    broker.subscriber("in").handle([](const std::string&) {});
    app.start({.log_level = "off"});
  }
  std::shared_ptr<scripted> t;
  brook::broker broker;
  brook::app app{broker};
};

TEST(Connection, EventsFeedReadinessAndCounters) {
  service svc{true};
  auto& t = svc.t;
  auto& app = svc.app;
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  t->fire(brook::connection_event::kind::lost, {brook::errc::disconnected, "peer closed"});
  EXPECT_TRUE(eventually([&] { return !app.ready(); }));
  auto c = app.connections();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].up);
  EXPECT_EQ(c[0].losses, 1u);
  EXPECT_EQ(c[0].protocol, "scripted");
  EXPECT_NE(c[0].last_error.find("peer closed"), std::string::npos);
  t->fire(brook::connection_event::kind::stalled, {brook::errc::stalled, "no answer"});
  t->fire(brook::connection_event::kind::restored);
  EXPECT_TRUE(eventually([&] { return app.ready(); }));
  c = app.connections();
  EXPECT_TRUE(c[0].up);
  EXPECT_EQ(c[0].stalls, 1u);
  EXPECT_EQ(c[0].connects, 2u);
  app.stop();
  EXPECT_EQ(app.connections().at(0).connects, 2u) << "kept after stop";
}

TEST(Connection, AFatalErrorRestartsTheTransport) {
  service svc{true};
  auto& t = svc.t;
  auto& app = svc.app;
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  t->fire(brook::connection_event::kind::fatal, {brook::errc::connection_failed, "auth revoked"});
  EXPECT_TRUE(eventually([&] { return t->restarts.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return app.ready(); })) << "restored by the restart";
  auto c = app.connections();
  EXPECT_EQ(c[0].fatals, 1u);
  EXPECT_EQ(c[0].restarts, 1u);
  app.stop();
}

TEST(Connection, RepeatedFatalErrorsEscalate) {
  service svc{true};
  auto& t = svc.t;
  auto& app = svc.app;
  // The default restart policy allows 5 restarts within 10 s.
  for (int i = 0; i < 5; ++i) {
    t->fire(brook::connection_event::kind::fatal, {brook::errc::connection_failed, "again"});
    ASSERT_TRUE(eventually([&] { return t->restarts.load() > i; }, 5s));
  }
  t->fire(brook::connection_event::kind::fatal, {brook::errc::connection_failed, "sixth"});
  EXPECT_EQ(app.wait_for_shutdown(), 70);
  EXPECT_FALSE(app.ready());
  EXPECT_EQ(t->restarts.load(), 5);
  app.stop();
}

TEST(Connection, AFatalErrorOfADriverThatCannotRestartEscalates) {
  service svc{false};
  auto& t = svc.t;
  auto& app = svc.app;
  t->fire(brook::connection_event::kind::fatal, {brook::errc::connection_failed, "gone"});
  EXPECT_EQ(app.wait_for_shutdown(), 70);
  EXPECT_EQ(t->restarts.load(), 1);
  app.stop();
}

}  // namespace
