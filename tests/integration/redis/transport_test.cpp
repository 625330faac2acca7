// The Redis transport against a real redis-server (scripts/services.sh start redis).
#include <atomic>

#include "test_support.hpp"

namespace {

using namespace brook_test;
using brook::errc;

namespace redis = brook::redis;
using std::chrono::milliseconds;

/// Another driver's declaration, which Redis must refuse by name.
struct not_redis {
  static constexpr std::string_view protocol = "memory";
  static constexpr std::string_view kind = "queue";
};

/// A seam spec of `address` with a typed declaration; `group` as the core passes it.
brook::subscription_spec spec(std::string address, brook::driver_spec typed = {},
                              std::string group = {}) {
  brook::subscription_spec s;
  s.address = std::move(address);
  s.driver = std::move(typed);
  s.group = std::move(group);
  return s;
}

std::string body(int i) {
  return R"({"n":)" + std::to_string(i) + "}";
}

std::vector<std::string> bodies(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back(body(i));
  return out;
}

class RedisTransport : public ::testing::Test {
protected:
  void SetUp() override { t = connect(); }
  void TearDown() override {
    if (t)
      t->close();
  }
  /// Waits until Redis reports `n` subscribers of `channel` (SUBSCRIBE is asynchronous).
  void wait_subscribed(const std::string& channel, long long n = 1) {
    ASSERT_TRUE(eventually([&] {
      auto r = redis.run({"PUBSUB", "NUMSUB", channel});
      return r && r->elements == 2 && r->element[1]->integer >= n;
    }));
  }
  /// Waits until a pattern subscription receives: PUBSUB NUMPAT counts every test's patterns,
  /// so probe `channel` until a message gets through.
  void wait_pattern(const std::string& channel, recording_sink& sink) {
    ASSERT_TRUE(eventually([&] {
      EXPECT_FALSE(publish_wait(*t, message(channel, "probe")));
      return sink.wait_for(1, 20ms);
    }));
  }
  std::shared_ptr<brook::transport> t;
  admin redis;
};

TEST_F(RedisTransport, PubSubDeliversWithHeaders) {
  auto ch = unique("ps");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(ch, redis::channel{}), sink);
  sub->request(100);
  wait_subscribed(ch);
  for (int i = 0; i < 3; ++i) {
    auto m = message(ch, body(i));
    m.correlation_id = "cid-" + std::to_string(i);
    m.headers.set("x-tenant", "acme");
    ASSERT_FALSE(publish_wait(*t, std::move(m)));
  }
  ASSERT_TRUE(sink->wait_for(3));
  EXPECT_EQ(sink->bodies(), bodies(0, 3));
  auto e = sink->at(1);
  EXPECT_EQ(e->channel, ch);
  EXPECT_EQ(e->correlation_id, "cid-1");
  EXPECT_EQ(e->content_type, "application/json");
  ASSERT_NE(e->headers.find("x-tenant"), nullptr);
  EXPECT_EQ(*e->headers.find("x-tenant"), "acme");
  EXPECT_EQ(e->metadata.at("kind"), "channel");
  EXPECT_EQ(e->ack, nullptr);
}

TEST_F(RedisTransport, PatternSubscriptionMatchesGlobs) {
  auto prefix = unique("pat");
  auto sink = std::make_shared<recording_sink>();
  auto sub =
      t->subscribe({.address = prefix + ".*", .pattern = true, .driver = redis::channel{}}, sink);
  sub->request(1000);
  wait_pattern(prefix + ".probe", *sink);
  auto probes = sink->count();  // more may still arrive: they are skipped below
  ASSERT_FALSE(publish_wait(*t, message(prefix + ".a", body(1))));
  ASSERT_FALSE(publish_wait(*t, message(prefix + "-other", body(2))));
  ASSERT_FALSE(publish_wait(*t, message(prefix + ".b", body(3))));
  ASSERT_TRUE(sink->wait_for(probes + 2));
  std::this_thread::sleep_for(100ms);
  std::vector<brook::envelope_ptr> got;
  for (std::size_t i = 0; i < sink->count(); ++i)
    if (sink->at(i)->body != "probe")
      got.push_back(sink->at(i));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->channel, prefix + ".a");
  EXPECT_EQ(got[1]->channel, prefix + ".b");
  EXPECT_EQ(got[1]->metadata.at("pattern"), prefix + ".*");
}

TEST_F(RedisTransport, ListSinglePops) {
  auto key = unique("list1");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::list{.batch = 1}), sink);
  sub->request(100);
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "list")));
  ASSERT_TRUE(sink->wait_for(5));
  EXPECT_EQ(sink->bodies(), bodies(0, 5));
  EXPECT_EQ(sink->at(0)->metadata.at("kind"), "list");
  EXPECT_EQ(redis.integer({"LLEN", key}), 0);
}

TEST_F(RedisTransport, ListBatchPops) {
  auto key = unique("listn");
  for (int i = 0; i < 25; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "list")));
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::list{.batch = 10}), sink);
  sub->request(100);
  ASSERT_TRUE(sink->wait_for(25));
  EXPECT_EQ(sink->bodies(), bodies(0, 25));
}

TEST_F(RedisTransport, ListCreditIsHonoured) {
  auto key = unique("credit-list");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::list{}), sink);
  sub->request(3);
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "list")));
  ASSERT_TRUE(sink->wait_for(3));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink->count(), 3u);
  EXPECT_EQ(redis.integer({"LLEN", key}), 7) << "pops must stop when the credit is used up";
  sub->request(7);
  ASSERT_TRUE(sink->wait_for(10));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sink->bodies(), bodies(0, 10));
}

TEST_F(RedisTransport, StreamGroupCreditIsHonoured) {
  auto key = unique("credit-stream");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::stream{.group = "g", .last_id = "0"}, "g"), sink);
  sub->request(3);
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "stream")));
  ASSERT_TRUE(sink->wait_for(3));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink->count(), 3u);
  EXPECT_EQ(redis.pending(key, "g"), 3) << "XREADGROUP COUNT must follow the credit";
  sub->request(7);
  ASSERT_TRUE(sink->wait_for(10));
  EXPECT_EQ(sink->bodies(), bodies(0, 10));
}

TEST_F(RedisTransport, PubSubWaitsForCreditInItsBuffer) {
  auto ch = unique("credit-ps");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(ch, redis::channel{}), sink);
  wait_subscribed(ch);
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(publish_wait(*t, message(ch, body(i))));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sink->count(), 0u);
  sub->request(2);
  ASSERT_TRUE(sink->wait_for(2));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sink->count(), 2u);
  sub->request(10);
  ASSERT_TRUE(sink->wait_for(5));
  EXPECT_EQ(sink->bodies(), bodies(0, 5));
  EXPECT_EQ(sub->dropped(), 0u);
}

class RedisOverflow : public RedisTransport,
                      public ::testing::WithParamInterface<brook::redis::overflow_policy> {};

TEST_P(RedisOverflow, CountsWhatTheBoundedBufferDrops) {
  std::vector<brook::error_info> events;
  std::mutex events_mutex;
  brook::redis::settings s;
  s.pubsub_buffer = 5;
  s.pubsub_overflow = GetParam();
  s.on_event = [&](const brook::error_info& e) {
    std::lock_guard guard{events_mutex};
    events.push_back(e);
  };
  auto tr = connect(s);
  auto ch = unique("overflow");
  auto sink = std::make_shared<recording_sink>();
  auto sub = tr->subscribe(spec(ch, redis::channel{}), sink);
  wait_subscribed(ch);
  for (int i = 0; i < 20; ++i)
    ASSERT_FALSE(publish_wait(*tr, message(ch, body(i))));
  ASSERT_TRUE(eventually([&] { return sub->dropped() == 15; })) << sub->dropped();
  sub->request(100);
  ASSERT_TRUE(sink->wait_for(5));
  std::this_thread::sleep_for(100ms);
  auto kept =
      GetParam() == brook::redis::overflow_policy::drop_oldest ? bodies(15, 20) : bodies(0, 5);
  EXPECT_EQ(sink->bodies(), kept);
  std::lock_guard guard{events_mutex};
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().code, errc::overflow);
  EXPECT_NE(events.front().message.find(ch), std::string::npos) << events.front().message;
  tr->close();
}

INSTANTIATE_TEST_SUITE_P(Policies, RedisOverflow,
                         ::testing::Values(brook::redis::overflow_policy::drop_oldest,
                                           brook::redis::overflow_policy::drop_newest));

TEST_F(RedisTransport, StreamWithoutGroupReadsFromLastId) {
  auto key = unique("stream0");
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "stream")));
  auto sink = std::make_shared<recording_sink>();
  auto sub =
      t->subscribe(spec(key, redis::stream{.last_id = "0", .block = milliseconds{200}}), sink);
  sub->request(100);
  ASSERT_TRUE(sink->wait_for(3));
  ASSERT_FALSE(publish_wait(*t, message(key, body(3), "stream")));
  ASSERT_TRUE(sink->wait_for(4));
  EXPECT_EQ(sink->bodies(), bodies(0, 4));
  auto e = sink->at(3);
  EXPECT_EQ(e->metadata.at("kind"), "stream");
  EXPECT_EQ(e->channel, key);
  EXPECT_FALSE(e->metadata.at("stream_id").empty());
  EXPECT_EQ(e->ack, nullptr);
}

TEST_F(RedisTransport, StreamWithoutGroupStartsAtTheEndByDefault) {
  auto key = unique("stream$");
  ASSERT_FALSE(publish_wait(*t, message(key, body(0), "stream")));
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::stream{}), sink);
  sub->request(100);
  ASSERT_TRUE(eventually([&] { return redis.client_in("stream-" + key, "xread"); }));
  ASSERT_FALSE(publish_wait(*t, message(key, body(1), "stream")));
  ASSERT_FALSE(publish_wait(*t, message(key, body(2), "stream")));
  ASSERT_TRUE(sink->wait_for(2));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sink->bodies(), bodies(1, 3));
}

TEST_F(RedisTransport, StreamGroupAckNackReject) {
  auto key = unique("group");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(
      spec(key, redis::stream{.group = "g", .consumer = "c1", .last_id = "0"}, "g"), sink);
  sub->request(10);
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "stream")));
  ASSERT_TRUE(sink->wait_for(3));
  EXPECT_EQ(redis.pending(key, "g"), 3);
  auto nacked = sink->at(1);
  EXPECT_EQ(nacked->metadata.at("group"), "g");
  EXPECT_EQ(nacked->metadata.at("consumer"), "c1");
  EXPECT_EQ(nacked->metadata.at("redelivered"), "false");
  ASSERT_NE(sink->at(0)->ack, nullptr);
  sink->at(0)->ack->ack();
  nacked->ack->nack();
  sink->at(2)->ack->reject();
  sink->at(0)->ack->ack();  // a second settle is ignored
  ASSERT_TRUE(eventually([&] { return redis.pending(key, "g") == 1; }));
  auto r = redis.run({"XPENDING", key, "g", "-", "+", "10"});
  ASSERT_TRUE(r && r->elements == 1);
  EXPECT_EQ(std::string(r->element[0]->element[0]->str), nacked->metadata.at("stream_id"));
}

TEST_F(RedisTransport, StreamGroupClaimsEntriesOfADeadConsumer) {
  auto key = unique("claim");
  ASSERT_FALSE(publish_wait(*t, message(key, body(7), "stream")));
  redis.run({"XGROUP", "CREATE", key, "g", "0"});
  auto taken = redis.run({"XREADGROUP", "GROUP", "g", "dead", "COUNT", "1", "STREAMS", key, ">"});
  ASSERT_TRUE(taken && taken->type == REDIS_REPLY_ARRAY);
  ASSERT_EQ(redis.pending(key, "g"), 1);

  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key,
                               redis::stream{.group = "g",
                                             .consumer = "alive",
                                             .min_idle = milliseconds{200},
                                             .block = milliseconds{100}},
                               "g"),
                          sink);
  sub->request(10);
  ASSERT_TRUE(sink->wait_for(1, 3s));
  auto e = sink->at(0);
  EXPECT_EQ(e->body, body(7));
  EXPECT_EQ(e->metadata.at("redelivered"), "true");
  EXPECT_EQ(e->metadata.at("consumer"), "alive");

  // A nack leaves it pending; the next claim pass hands it over again.
  e->ack->nack();
  ASSERT_TRUE(sink->wait_for(2, 3s));
  EXPECT_EQ(sink->at(1)->metadata.at("stream_id"), e->metadata.at("stream_id"));
  sink->at(1)->ack->ack();
  ASSERT_TRUE(eventually([&] { return redis.pending(key, "g") == 0; }));
}

TEST_F(RedisTransport, StreamGroupRereadsItsOwnPendingEntriesAfterARestart) {
  auto key = unique("own-pending");
  for (int i = 0; i < 2; ++i)
    ASSERT_FALSE(publish_wait(*t, message(key, body(i), "stream")));
  auto opts = redis::stream{.group = "g", .consumer = "stable", .last_id = "0"};
  {
    auto sink = std::make_shared<recording_sink>();
    auto sub = t->subscribe(spec(key, opts, "g"), sink);
    sub->request(10);
    ASSERT_TRUE(sink->wait_for(2));
  }  // gone without acknowledging
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, opts, "g"), sink);
  sub->request(10);
  ASSERT_TRUE(sink->wait_for(2));
  EXPECT_EQ(sink->bodies(), bodies(0, 2));
  EXPECT_EQ(sink->at(0)->metadata.at("redelivered"), "true");
  sink->at(0)->ack->ack();
  sink->at(1)->ack->ack();
  ASSERT_TRUE(eventually([&] { return redis.pending(key, "g") == 0; }));
}

TEST_F(RedisTransport, StreamGroupNoAckLeavesNothingPending) {
  auto key = unique("noack");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(
      spec(key, redis::stream{.group = "g", .no_ack = true, .last_id = "0"}, "g"), sink);
  sub->request(10);
  ASSERT_FALSE(publish_wait(*t, message(key, body(1), "stream")));
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_EQ(sink->at(0)->ack, nullptr);
  EXPECT_EQ(redis.pending(key, "g"), 0);
}

TEST_F(RedisTransport, ForeignStreamEntriesBecomeJsonObjects) {
  auto key = unique("foreign");
  redis.run({"XADD", key, "*", "user", "ann", "n", "3"});
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::stream{.last_id = "0"}), sink);
  sub->request(1);
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_EQ(sink->at(0)->body, R"({"user":"ann","n":"3"})");
  EXPECT_EQ(sink->at(0)->content_type, "application/json");
}

TEST_F(RedisTransport, StreamPublishStoresTheEnvelopeInDataAndTrims) {
  auto key = unique("maxlen");
  for (int i = 0; i < 400; ++i) {
    auto m = message(key, body(i), "stream");
    m.driver = redis::stream_out{.maxlen = 100};
    t->publish(std::move(m), [](const brook::error_info&) {});
  }
  ASSERT_FALSE(publish_wait(*t, message(key, body(400), "stream")));
  EXPECT_LT(redis.integer({"XLEN", key}), 300) << "MAXLEN ~ 100 trims whole nodes";
  auto r = redis.run({"XRANGE", key, "-", "+", "COUNT", "1"});
  ASSERT_TRUE(r && r->elements == 1);
  auto* fields = r->element[0]->element[1];
  ASSERT_EQ(fields->elements, 2u);
  EXPECT_EQ(std::string(fields->element[0]->str), "__data__");
  EXPECT_EQ(std::string(fields->element[1]->str, 8), std::string("\x89"
                                                                 "BIN\r\n\x1a\n",
                                                                 8));
}

TEST_F(RedisTransport, RequestReplyThroughAReplyChannel) {
  auto service = unique("rpc");
  // The responder: what a brook or FastStream subscriber does with reply_to.
  auto server_sink = std::make_shared<recording_sink>();
  std::weak_ptr<brook::transport> weak = t;
  server_sink->on_deliver = [weak](const brook::envelope_ptr& req) {
    auto tr = weak.lock();
    if (!tr || req->reply_to.empty())
      return;
    brook::outgoing reply;
    reply.channel = req->reply_to;
    reply.body = R"({"echo":)" + req->body + "}";
    reply.correlation_id = req->correlation_id;
    reply.content_type = "application/json";
    tr->publish(std::move(reply), [](const brook::error_info&) {});
  };
  for (std::string kind : {"channel", "list", "stream"}) {
    SCOPED_TRACE(kind);
    auto address = service + "-" + kind;
    auto sub = t->subscribe(
        spec(address, kind == "stream" ? brook::driver_spec{redis::stream{.last_id = "0"}}
                      : kind == "list" ? brook::driver_spec{redis::list{}}
                                       : brook::driver_spec{}),
        server_sink);
    sub->request(10);
    if (kind == "channel")
      wait_subscribed(address);
    auto replies = std::make_shared<recording_sink>();
    auto reply_to = t->open_replies(replies);
    EXPECT_TRUE(reply_to.starts_with("brook-reply-")) << reply_to;
    // No wait for the reply subscription: the driver holds the request until it is confirmed.
    auto req = message(address, R"({"q":1})", kind);
    req.reply_to = reply_to;
    req.correlation_id = "req-" + kind;
    ASSERT_FALSE(publish_wait(*t, std::move(req)));
    ASSERT_TRUE(replies->wait_for(1));
    EXPECT_EQ(replies->at(0)->correlation_id, "req-" + kind);
    EXPECT_EQ(replies->at(0)->body, R"({"echo":{"q":1}})");
    EXPECT_EQ(replies->at(0)->channel, reply_to);
  }
}

/// Calls of `command` so far, from INFO commandstats.
long long command_calls(admin& redis, const std::string& command) {
  auto r = redis.run({"INFO", "commandstats"});
  std::string info = r && r->str ? std::string{r->str, r->len} : std::string{};
  auto at = info.find("cmdstat_" + command + ":calls=");
  return at == std::string::npos ? 0 : std::atoll(info.c_str() + at + command.size() + 15);
}

TEST_F(RedisTransport, ManyPublishesArePipelinedAndRunsOfPushesMerged) {
  // Runs of 50 publishes alternate between two lists: pushes to one key that queue up
  // together go out as one multi-value RPUSH, without mixing keys or reordering.
  auto a = unique("pipeline-a"), b = unique("pipeline-b");
  constexpr int n = 20000;
  std::atomic<int> ok{0}, failed{0};
  std::promise<void> all;
  auto rpush_before = command_calls(redis, "rpush");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    t->publish(message(i % 100 < 50 ? a : b, body(i), "list"), [&](const brook::error_info& e) {
      (e ? failed : ok)++;
      if (ok + failed == n)
        all.set_value();
    });
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto rpushes = command_calls(redis, "rpush") - rpush_before;
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(redis.integer({"LLEN", a}), n / 2);
  EXPECT_EQ(redis.integer({"LLEN", b}), n / 2);
  EXPECT_LT(rpushes, n / 2) << "publishes were not merged";
  std::cout << "[ info ] " << n << " publishes in " << secs << " s (" << n / secs << "/s), "
            << rpushes << " RPUSH commands\n";
  for (auto& [key, first] : {std::pair{a, 0}, std::pair{b, 50}}) {
    auto sink = std::make_shared<recording_sink>();
    auto sub = t->subscribe(spec(key, redis::list{.batch = 500}), sink);
    sub->request(n);
    ASSERT_TRUE(sink->wait_for(n / 2));
    auto got = sink->bodies();
    std::vector<std::string> want;
    for (int i = first; i < n; i += i % 50 == 49 ? 51 : 1)
      want.push_back(body(i));
    EXPECT_EQ(got, want) << key;
  }
}

TEST_F(RedisTransport, CancellingABlockedListReaderIsImmediateAndLosesNothing) {
  auto key = unique("cancel");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::list{.batch = 1, .block = milliseconds{30000}}), sink);
  sub->request(5);
  ASSERT_TRUE(eventually([&] { return redis.client_in("list-" + key, "blmpop"); }));
  sub.reset();
  ASSERT_TRUE(eventually([&] { return !redis.client_in("list-" + key, ""); }, 1s))
      << "CLIENT UNBLOCK should end the 30 s BLMPOP at once";
  redis.run({"RPUSH", key, "after"});
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(redis.integer({"LLEN", key}), 1);
  EXPECT_EQ(sink->count(), 0u);
}

TEST_F(RedisTransport, PoppedButUndeliveredItemsGoBackToTheList) {
  auto key = unique("pushback");
  for (int i = 0; i < 5; ++i)
    redis.run({"RPUSH", key, body(i)});
  // A sink that throws fails the subscription on the first of the five popped items; the
  // other four must return to the head of the list, in order.
  auto sink = std::make_shared<recording_sink>();
  sink->on_deliver = [](const brook::envelope_ptr&) { throw std::runtime_error("boom"); };
  auto sub = t->subscribe(spec(key, redis::list{.batch = 10}), sink);
  sub->request(10);
  ASSERT_TRUE(sink->wait_failed());
  EXPECT_EQ(sink->failures().front().code, errc::handler_failed);
  EXPECT_NE(sink->failures().front().message.find("boom"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return redis.integer({"LLEN", key}) == 4; }));
  auto r = redis.run({"LRANGE", key, "0", "-1"});
  ASSERT_TRUE(r && r->elements == 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(std::string(r->element[i]->str, r->element[i]->len), body(i + 1));
  redis.run({"DEL", key});
}

TEST_F(RedisTransport, UrlDatabaseIsSelected) {
  brook::redis::settings s;
  s.url = redis_url() + "/5";
  auto tr = connect(s);
  auto key = unique("db5");
  ASSERT_FALSE(publish_wait(*tr, message(key, "x", "list")));
  EXPECT_EQ(redis.integer({"LLEN", key}), 0);
  redis.run({"SELECT", "5"});
  EXPECT_EQ(redis.integer({"LLEN", key}), 1);
  redis.run({"DEL", key});
  redis.run({"SELECT", "0"});
  EXPECT_EQ(tr->url().substr(tr->url().size() - 2), "/5");
}

TEST_F(RedisTransport, AuthenticatesWithAclUser) {
  auto user =
      "brooktest" + std::to_string(std::random_device{}() % 100000);  // no ':' in a URL user
  redis.run({"ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all"});
  brook::redis::settings s;
  brook::redis::endpoint ep;
  ASSERT_FALSE(brook::redis::parse_url(redis_url(), ep));
  s.url = "redis://" + user + ":pw@" + ep.host + ":" + std::to_string(ep.port);
  {
    auto tr = connect(s);
    EXPECT_EQ(tr->url().find("pw"), std::string::npos) << "url() must hide credentials";
    ASSERT_FALSE(publish_wait(*tr, message(unique("auth"), "x")));
  }
  s.url = "redis://" + user + ":wrong@" + ep.host + ":" + std::to_string(ep.port);
  s.connect_timeout = 500ms;
  auto bad = brook::redis::make_transport(s);
  auto err = bad->start();
  EXPECT_EQ(err.code, errc::connection_failed);
  EXPECT_NE(err.message.find("WRONGPASS"), std::string::npos) << err.message;
  bad->close();
  redis.run({"ACL", "DELUSER", user});
}

TEST(RedisTransportOffline, PublishesFailWhenTheServerStaysAway) {
  brook::redis::settings s;
  s.url = "redis://127.0.0.1:6399";  // nothing listens here
  s.connect_timeout = 300ms;
  s.queued_timeout = 300ms;
  s.max_queued = 2;
  auto t = brook::redis::make_transport(s);
  auto started = std::chrono::steady_clock::now();
  auto err = t->start();
  EXPECT_EQ(err.code, errc::connection_failed);
  EXPECT_NE(err.message.find("127.0.0.1:6399"), std::string::npos) << err.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);

  std::promise<brook::error_info> first, second, third;
  t->publish(message("k", "1"), [&](const brook::error_info& e) { first.set_value(e); });
  t->publish(message("k", "2"), [&](const brook::error_info& e) { second.set_value(e); });
  t->publish(message("k", "3"), [&](const brook::error_info& e) { third.set_value(e); });
  auto f3 = third.get_future();
  ASSERT_EQ(f3.wait_for(200ms), std::future_status::ready) << "beyond max_queued fails at once";
  EXPECT_EQ(f3.get().code, errc::disconnected);
  auto f1 = first.get_future();
  ASSERT_EQ(f1.wait_for(2s), std::future_status::ready);
  auto e1 = f1.get();
  EXPECT_EQ(e1.code, errc::disconnected);
  EXPECT_NE(e1.message.find("not sent within 300 ms"), std::string::npos) << e1.message;
  EXPECT_EQ(second.get_future().get().code, errc::disconnected);
  t->close();
}

TEST(RedisTransportOffline, CloseCompletesEverythingAndIsIdempotent) {
  brook::redis::settings s;
  s.url = "redis://127.0.0.1:6399";
  s.connect_timeout = 100ms;
  auto t = brook::redis::make_transport(s);
  EXPECT_TRUE(t->start()) << "nothing listens on 6399";
  std::promise<brook::error_info> held;
  t->publish(message("k", "1"), [&](const brook::error_info& e) { held.set_value(e); });
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec("k", redis::list{}), sink);
  sub->request(1);
  auto before = std::chrono::steady_clock::now();
  t->close();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
  EXPECT_EQ(held.get_future().get().code, errc::closed);
  t->close();
  std::promise<brook::error_info> after;
  t->publish(message("k", "2"), [&](const brook::error_info& e) { after.set_value(e); });
  EXPECT_EQ(after.get_future().get().code, errc::closed);
  sub.reset();  // a handle outliving close() is harmless
}

TEST(RedisTransportConfig, BadUrlAndOptionsAreReported) {
  brook::redis::settings s;
  s.url = "redis://u:secret@host:notaport";
  auto t = brook::redis::make_transport(s);
  auto err = t->start();
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_EQ(err.message.find("secret"), std::string::npos) << err.message;
  std::promise<brook::error_info> p;
  t->publish(message("k", "1"), [&](const brook::error_info& e) { p.set_value(e); });
  EXPECT_EQ(p.get_future().get().code, errc::invalid_argument);
}

TEST_F(RedisTransport, BadSubscriptionsFailThroughTheSink) {
  struct bad_case {
    brook::subscription_spec spec;
    const char* says;
  };
  std::vector<bad_case> cases{
      {spec("k", not_redis{}), "a memory queue declaration is not one Redis subscribes with"},
      {spec("k", redis::list_out{}), "list_out and stream_out are publish targets"},
      {spec("k", redis::list{}, "g"), "no consumer groups"},
      {spec("k", redis::channel{}, "g"), "no consumer groups"},
      {spec("k", redis::stream{.consumer = "c"}), "needs a group"},
      {spec("k", redis::stream{.no_ack = true}), "no_ack needs a group"},
      {spec("k", redis::stream{.group = "g", .no_ack = true, .min_idle = milliseconds{10}}, "g"),
       "nothing to claim"},
      {spec("k", redis::stream{.group = "g", .min_idle = milliseconds{-1}}, "g"), "negative"},
      {spec("", redis::list{}), "the key is empty"},
  };
  for (auto& c : cases) {
    auto sink = std::make_shared<recording_sink>();
    auto sub = t->subscribe(c.spec, sink);
    ASSERT_TRUE(sink->wait_failed()) << c.says;
    auto f = sink->failures().front();
    EXPECT_EQ(f.code, errc::invalid_argument);
    EXPECT_NE(f.message.find(c.says), std::string::npos) << f.message;
  }
  // A key of the wrong type is a server-side error, reported the same way.
  auto key = unique("wrongtype");
  redis.run({"SET", key, "string"});
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe(spec(key, redis::list{}), sink);
  sub->request(1);
  ASSERT_TRUE(sink->wait_failed());
  EXPECT_NE(sink->failures().front().message.find("WRONGTYPE"), std::string::npos);
  redis.run({"DEL", key});
}

TEST_F(RedisTransport, BadPublishesFailWithAReason) {
  auto m = message("k", "x");
  m.driver = not_redis{};
  auto err = publish_wait(*t, m);
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.message.find("a memory queue target is not one Redis publishes to"),
            std::string::npos)
      << err.message;
  m.driver = redis::list{};  // a subscription's declaration, not a publish target
  EXPECT_EQ(publish_wait(*t, m).code, errc::invalid_argument);
  m.driver = redis::channel{.name = "k", .pattern = true};
  EXPECT_NE(publish_wait(*t, m).message.find("pattern"), std::string::npos);
  m = message("", "x", "list");
  EXPECT_NE(publish_wait(*t, m).message.find("channel is empty"), std::string::npos);
}

}  // namespace
