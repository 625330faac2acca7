// Reconnect: the driver survives its server restarting under it. Each test runs its own
// redis-server (BROOK_REDIS_RECONNECT_PORT + n, default 6391 + n) through scripts/services.sh,
// so restarting it disturbs no test running in parallel against the shared server.
#include "test_support.hpp"

namespace {

using namespace brook_test;

// Each test gets its own server (ctest runs the tests of one binary as parallel processes).
int base_port() {
  const char* p = std::getenv("BROOK_REDIS_RECONNECT_PORT");
  return p && *p ? std::atoi(p) : 6391;
}

class RedisReconnect : public ::testing::Test {
protected:
  /// Starts this test's server on base port + `offset` and connects to it.
  void up(int offset, const std::string& server_args = "") {
    port_ = std::to_string(base_port() + offset);
    auto start_env =
        server_args.empty() ? env() : env() + " BROOK_REDIS_ARGS='" + server_args + "'";
    ASSERT_EQ(services("start redis", start_env), 0);
    brook::redis::settings s;
    s.url = url();
    s.reconnect_backoff_min = 50ms;
    s.reconnect_backoff_max = 400ms;
    s.block_time = 200ms;
    s.on_event = [this](const brook::error_info& e) {
      std::lock_guard guard{events_mutex};
      events.push_back(e);
    };
    t = connect(s);
  }
  void TearDown() override {
    if (t)
      t->close();
    if (!port_.empty())
      services("stop redis", env());
  }
  std::string env() const { return "BROOK_REDIS_PORT=" + port_; }
  std::string url() const { return "redis://127.0.0.1:" + port_; }

  bool saw_event(brook::errc code, const std::string& text) {
    std::lock_guard guard{events_mutex};
    for (auto& e : events)
      if (e.code == code && e.message.find(text) != std::string::npos)
        return true;
    return false;
  }

  std::string port_;
  std::shared_ptr<brook::transport> t;
  std::mutex events_mutex;
  std::vector<brook::error_info> events;
};

TEST_F(RedisReconnect, RestartResumesEveryKindAndLosesNoStoredMessage) {
  up(0);
  auto ch = unique("rc-ch");
  auto list = unique("rc-list");
  auto parked = unique("rc-parked");
  auto stream = unique("rc-stream");
  auto ch_sink = std::make_shared<recording_sink>();
  auto list_sink = std::make_shared<recording_sink>();
  auto parked_sink = std::make_shared<recording_sink>();
  auto stream_sink = std::make_shared<recording_sink>();
  auto ch_sub = t->subscribe({.address = ch, .driver = brook::redis::channel{}}, ch_sink);
  auto list_sub = t->subscribe({.address = list, .driver = brook::redis::list{}}, list_sink);
  auto parked_sub = t->subscribe({.address = parked, .driver = brook::redis::list{}}, parked_sink);
  auto stream_sub = t->subscribe({.address = stream,
                                  .group = "g",
                                  .driver = brook::redis::stream{.group = "g", .last_id = "0"}},
                                 stream_sink);
  ch_sub->request(100);
  list_sub->request(100);
  stream_sub->request(100);

  {
    admin redis{url()};
    ASSERT_TRUE(eventually([&] {
      auto r = redis.run({"PUBSUB", "NUMSUB", ch});
      return r && r->element[1]->integer == 1;
    }));
  }
  ASSERT_FALSE(publish_wait(*t, message(ch, "before")));
  ASSERT_FALSE(publish_wait(*t, message(list, "before", "list")));
  ASSERT_FALSE(publish_wait(*t, message(stream, "before", "stream")));
  ASSERT_FALSE(publish_wait(*t, message(stream, "in-flight", "stream")));
  for (int i = 0; i < 3; ++i)  // no credit: these wait in Redis across the restart
    ASSERT_FALSE(publish_wait(*t, message(parked, "parked-" + std::to_string(i), "list")));
  ASSERT_TRUE(ch_sink->wait_for(1));
  ASSERT_TRUE(list_sink->wait_for(1));
  ASSERT_TRUE(stream_sink->wait_for(2));
  stream_sink->at(0)->ack->ack();
  auto in_flight = stream_sink->at(1);  // delivered, handler still busy when the server goes

  ASSERT_EQ(services("restart redis", env()), 0);

  ASSERT_TRUE(eventually([&] { return saw_event(brook::errc::disconnected, "lost"); }));
  {
    admin redis{url()};
    EXPECT_EQ(redis.integer({"LLEN", parked}), 3) << "the snapshot keeps stored messages";
    ASSERT_TRUE(eventually([&] {
      auto r = redis.run({"PUBSUB", "NUMSUB", ch});
      return r && r->element[1]->integer == 1;
    })) << "the pub/sub subscription is restored";
  }
  ASSERT_FALSE(publish_wait(*t, message(ch, "after")));
  ASSERT_FALSE(publish_wait(*t, message(list, "after", "list")));
  ASSERT_FALSE(publish_wait(*t, message(stream, "after", "stream")));
  ASSERT_TRUE(ch_sink->wait_for(2));
  ASSERT_TRUE(list_sink->wait_for(2));
  ASSERT_TRUE(stream_sink->wait_for(3));
  EXPECT_EQ(ch_sink->bodies(), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(list_sink->bodies(), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(stream_sink->at(2)->body, "after");
  // What may have been missed is reported where the broker keeps nothing: pub/sub (published
  // while down is never seen) and a list whose pop was in flight (its reply is lost). Nothing
  // for a list without a read in flight or a stream group (entries stay on the server).
  ASSERT_FALSE(ch_sink->gaps().empty());
  EXPECT_NE(ch_sink->gaps().front().message.find("never seen"), std::string::npos)
      << ch_sink->gaps().front().message;
  ASSERT_FALSE(list_sink->gaps().empty());
  EXPECT_NE(list_sink->gaps().front().message.find("in flight"), std::string::npos)
      << list_sink->gaps().front().message;
  EXPECT_TRUE(parked_sink->gaps().empty());
  EXPECT_TRUE(stream_sink->gaps().empty());
  // Each live subscription says it stopped receiving, and again when it is back.
  for (auto* s : {ch_sink.get(), list_sink.get(), stream_sink.get()}) {
    EXPECT_GE(s->interrupted_count.load(), 1);
    EXPECT_GE(s->subscribed_count.load(), 2);
  }

  // Settling across the restart works: the entry is still pending on the restarted server.
  in_flight->ack->ack();
  stream_sink->at(2)->ack->ack();
  {
    admin redis{url()};
    ASSERT_TRUE(eventually([&] { return redis.pending(stream, "g") == 0; }));
  }
  parked_sub->request(10);
  ASSERT_TRUE(parked_sink->wait_for(3));
  EXPECT_EQ(parked_sink->bodies(), (std::vector<std::string>{"parked-0", "parked-1", "parked-2"}));
  EXPECT_TRUE(saw_event(brook::errc::ok, "restored"));
}

TEST_F(RedisReconnect, PublishesMadeWhileDownAreSentWhenTheServerReturns) {
  up(1);
  auto list = unique("rc-down");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe({.address = list, .driver = brook::redis::list{}}, sink);
  sub->request(100);
  ASSERT_FALSE(publish_wait(*t, message(list, "first", "list")));
  ASSERT_TRUE(sink->wait_for(1));

  ASSERT_EQ(services("stop redis", env()), 0);
  std::vector<std::future<brook::error_info>> results;
  for (int i = 0; i < 5; ++i) {
    auto p = std::make_shared<std::promise<brook::error_info>>();
    results.push_back(p->get_future());
    t->publish(message(list, "while-down-" + std::to_string(i), "list"),
               [p](const brook::error_info& e) { p->set_value(e); });
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(results[0].wait_for(0ms), std::future_status::timeout)
      << "held while the server is away, not failed";
  ASSERT_EQ(services("start redis", env()), 0);

  for (auto& r : results) {
    ASSERT_EQ(r.wait_for(5s), std::future_status::ready);
    auto e = r.get();
    EXPECT_FALSE(e) << e.message;
  }
  ASSERT_TRUE(sink->wait_for(6));
  auto got = sink->bodies();
  EXPECT_EQ(got, (std::vector<std::string>{"first", "while-down-0", "while-down-1", "while-down-2",
                                           "while-down-3", "while-down-4"}));
}

// Not a reconnect test, but it needs a server of its own too: one without BLMPOP, like
// Redis 6, where list subscriptions fall back to LPOP count + BLPOP.
TEST_F(RedisReconnect, ListsWorkOnServersWithoutBlmpop) {
  up(2, "--rename-command BLMPOP brook-test-no-blmpop");
  for (std::size_t batch : {1u, 10u}) {
    SCOPED_TRACE(batch);
    auto list = unique("legacy-" + std::to_string(batch));
    for (int i = 0; i < 15; ++i)
      ASSERT_FALSE(publish_wait(*t, message(list, std::to_string(i), "list")));
    auto sink = std::make_shared<recording_sink>();
    auto sub = t->subscribe({.address = list, .driver = brook::redis::list{.batch = batch}}, sink);
    sub->request(5);
    ASSERT_TRUE(sink->wait_for(5));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(sink->count(), 5u) << "credit still bounds the pops";
    sub->request(20);
    ASSERT_TRUE(sink->wait_for(15));
    ASSERT_FALSE(publish_wait(*t, message(list, "late", "list")));  // arrives while blocked
    ASSERT_TRUE(sink->wait_for(16));
    EXPECT_EQ(sink->at(15)->body, "late");
    EXPECT_TRUE(sink->failures().empty());
  }
}

}  // namespace
