// Wire compatibility with Python FastStream on a real Redis: FastStream answers brook's
// requests, brook answers FastStream's, and each decodes what the other publishes. Needs the
// venv from scripts/interop/setup_venv.sh (BROOK_RUN_DIR, default /tmp/brook-run).

#include <boost/json.hpp>
#include <cstdlib>

#include "../../support/faststream.hpp"
#include "envelope.hpp"
#include "test_support.hpp"

namespace {

using namespace brook_test;
namespace json = boost::json;

using brook_test_support::quote;

/// Runs a short FastStream client command; returns its stdout.
std::string run_client(const std::string& args) {
  return brook_test_support::run_python("faststream_client.py", args);
}

/// The FastStream Redis service, started for one test.
class faststream_app : public brook_test_support::faststream_app {
public:
  explicit faststream_app(const std::string& prefix)
      : brook_test_support::faststream_app(
            "faststream_app.py",
            {{"BROOK_INTEROP_PREFIX", prefix}, {"BROOK_REDIS_URL", redis_url()}}) {}
};

class RedisInterop : public ::testing::Test {
protected:
  void SetUp() override {
    BROOK_REQUIRE_FASTSTREAM();  // CI: a missing venv is a failure, not a skip
    t = connect();
  }
  void TearDown() override {
    if (t)
      t->close();
  }
  std::shared_ptr<brook::transport> t;
};

TEST_F(RedisInterop, EncoderMatchesFastStreamByteForByte) {
  auto hex = run_client("encode");
  std::string py;
  for (std::size_t i = 0; i + 1 < hex.size() && hex[i] != '\n'; i += 2)
    py.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  // FastStream's body is its JSON serializer's output ({"a": 1} with the stdlib json module,
  // {"a":1} with orjson); the framing around it must be identical.
  auto body_at = py.find('{');
  ASSERT_NE(body_at, std::string::npos);
  brook::outgoing out;
  out.body = py.substr(body_at);
  out.correlation_id = "abc";
  out.content_type = "application/json";
  std::string ours;
  ASSERT_FALSE(brook::redis::encode_envelope(out, ours));
  EXPECT_EQ(ours, py);
}

TEST_F(RedisInterop, FastStreamAnswersBrookRequests) {
  auto prefix = unique("fs");
  faststream_app app{prefix};
  ASSERT_TRUE(app.ready()) << "the FastStream app did not start";
  for (std::string kind : {"channel", "list", "stream"}) {
    SCOPED_TRACE(kind);
    auto replies = std::make_shared<recording_sink>();
    auto reply_to = t->open_replies(replies);
    auto req = message(prefix + "." + kind, R"({"q":1,"name":"brook"})", kind);
    req.reply_to = reply_to;
    req.correlation_id = "brook-" + kind;
    req.headers.set("x-tenant", "acme");
    ASSERT_FALSE(publish_wait(*t, std::move(req)));
    ASSERT_TRUE(replies->wait_for(1, 10s));
    auto reply = replies->at(0);
    EXPECT_EQ(reply->correlation_id, "brook-" + kind);
    EXPECT_EQ(reply->content_type, "application/json");
    auto v = json::parse(reply->body).as_object();
    EXPECT_EQ(v.at("by"), "faststream");
    EXPECT_EQ(v.at("echo"), json::parse(R"({"q":1,"name":"brook"})"));
    EXPECT_EQ(v.at("content_type"), "application/json");
    EXPECT_EQ(v.at("correlation_id"), json::value("brook-" + kind));
    EXPECT_EQ(v.at("headers"), json::parse(R"({"x-tenant":"acme"})"));
  }
  // A text body: FastStream hands its handler a str because of content-type text/plain.
  auto replies = std::make_shared<recording_sink>();
  auto req = message(prefix + ".text", "hello");
  req.content_type = "text/plain";
  req.reply_to = t->open_replies(replies);
  ASSERT_FALSE(publish_wait(*t, std::move(req)));
  ASSERT_TRUE(replies->wait_for(1, 10s));
  EXPECT_EQ(replies->at(0)->body, "faststream got 'hello' as text/plain");
  EXPECT_EQ(replies->at(0)->content_type, "text/plain");
}

TEST_F(RedisInterop, BrookAnswersFastStreamRequests) {
  auto prefix = unique("brook");
  auto requests = std::make_shared<recording_sink>();
  std::weak_ptr<brook::transport> weak = t;
  requests->on_deliver = [weak](const brook::envelope_ptr& env) {
    auto tr = weak.lock();
    if (!tr || env->reply_to.empty())
      return;
    brook::outgoing reply;
    reply.channel = env->reply_to;  // always PUBLISH, whatever the request came on
    reply.body = R"({"echo":)" + env->body + R"(,"by":"brook"})";
    reply.correlation_id = env->correlation_id;
    reply.content_type = "application/json";
    tr->publish(std::move(reply), [](const brook::error_info&) {});
    if (env->ack)
      env->ack->ack();
  };
  std::vector<std::unique_ptr<brook::subscription>> subs;
  subs.push_back(
      t->subscribe({.address = prefix + ".channel", .driver = brook::redis::channel{}}, requests));
  subs.push_back(
      t->subscribe({.address = prefix + ".list", .driver = brook::redis::list{}}, requests));
  subs.push_back(t->subscribe({.address = prefix + ".stream",
                               .group = "brook",
                               .driver = brook::redis::stream{.group = "brook"}},
                              requests));
  for (auto& s : subs)
    s->request(100);
  admin redis;
  ASSERT_TRUE(eventually([&] {
    auto r = redis.run({"PUBSUB", "NUMSUB", prefix + ".channel"});
    return r && r->element[1]->integer == 1 && redis.client_in("stream-" + prefix, "xreadgroup");
  }));
  std::size_t n = 0;
  for (std::string kind : {"channel", "list", "stream"}) {
    SCOPED_TRACE(kind);
    auto out = run_client("request " + kind + " " + quote(prefix + "." + kind) + " " +
                          quote(R"({"q": 2})"));
    auto v = json::parse(out).as_object();
    EXPECT_EQ(v.at("body"), json::parse(R"({"echo":{"q":2},"by":"brook"})"));
    EXPECT_EQ(v.at("correlation_id"), "py-request");
    EXPECT_EQ(v.at("content_type"), "application/json");
    ASSERT_TRUE(requests->wait_for(++n));
    auto req = requests->at(n - 1);
    EXPECT_EQ(req->correlation_id, "py-request");
    EXPECT_EQ(req->content_type, "application/json");
    EXPECT_FALSE(req->reply_to.empty());
    ASSERT_NE(req->headers.find("x-from"), nullptr);
    EXPECT_EQ(*req->headers.find("x-from"), "python");
  }
}

TEST_F(RedisInterop, BrookDecodesWhatFastStreamPublishes) {
  auto key = unique("fs-pub");
  auto sink = std::make_shared<recording_sink>();
  auto sub = t->subscribe({.address = key, .driver = brook::redis::list{}}, sink);
  sub->request(10);
  run_client("publish list " + quote(key) + " " + quote(R"({"k": "v", "n": [1, 2]})") +
             " x-a=1 x-b=two");
  ASSERT_TRUE(sink->wait_for(1, 10s));
  auto env = sink->at(0);
  EXPECT_EQ(json::parse(env->body), json::parse(R"({"k":"v","n":[1,2]})"));
  EXPECT_EQ(env->correlation_id, "py-cid");
  EXPECT_EQ(env->content_type, "application/json");
  brook::headers expected{{"correlation_id", "py-cid"},
                          {"content-type", "application/json"},
                          {"x-a", "1"},
                          {"x-b", "two"}};
  EXPECT_EQ(env->headers, expected);
}

}  // namespace
