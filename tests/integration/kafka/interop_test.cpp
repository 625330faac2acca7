// Wire compatibility with Python FastStream 0.7.8 on a real Kafka broker, both ways:
// FastStream answers brook's requests (it publishes a handler's result to the request's
// reply_to topic), brook answers a FastStream service's hand-made request, and each
// decodes what the other publishes, with correlation ids, content types, keys and user
// headers intact. Needs the venv from scripts/interop/setup_venv.sh.
#include <boost/json.hpp>
#include <brook/app.hpp>
#include <brook/kafka/broker.hpp>
#include <mutex>

#include "../../support/eventually.hpp"
#include "../../support/faststream.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::bootstrap;
using brook_test::unique;
using brook_test_support::eventually;
using brook_test_support::quote;
namespace json = boost::json;
namespace kafka = brook::kafka;

namespace {

class KafkaInterop : public ::testing::Test {
protected:
  void SetUp() override { BROOK_REQUIRE_FASTSTREAM(); }
};

std::string run_client(const std::string& args) {
  return brook_test_support::run_python("faststream_kafka_client.py", args);
}

TEST_F(KafkaInterop, FastStreamAnswersBrookRequests) {
  auto prefix = unique("fs");
  brook_test_support::faststream_app py{
      "faststream_kafka_app.py",
      {{"BROOK_INTEROP_PREFIX", prefix}, {"BROOK_KAFKA_BOOTSTRAP", bootstrap()}}};
  ASSERT_TRUE(py.ready()) << "the FastStream app did not start";
  kafka::broker broker{bootstrap()};
  brook::app app{broker};
  app.start({.log_level = "off"});
  brook::outgoing m;
  m.channel = prefix + "-echo";
  m.body = R"({"q":1,"name":"brook"})";
  m.content_type = "application/json";
  m.correlation_id = "brook-1";
  m.headers.set("x-tenant", "acme");
  m.driver = kafka::topic_out{.key = "k-1"};
  auto reply = broker.request_raw(std::move(m), 30s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->correlation_id, "brook-1");
  EXPECT_EQ(reply->content_type, "application/json");
  auto v = json::parse(reply->body).as_object();
  EXPECT_EQ(v.at("by"), "faststream");
  EXPECT_EQ(v.at("echo"), json::parse(R"({"q":1,"name":"brook"})"));
  EXPECT_EQ(v.at("content_type"), "application/json");
  EXPECT_EQ(v.at("correlation_id"), "brook-1");
  EXPECT_EQ(v.at("headers"), json::parse(R"({"x-tenant":"acme"})"));
  EXPECT_EQ(v.at("key"), "k-1");
  // A text body: FastStream hands its handler a str because of content-type text/plain.
  brook::outgoing text;
  text.channel = prefix + "-text";
  text.body = "hello";
  text.content_type = "text/plain";
  auto r2 = broker.request_raw(std::move(text), 30s);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "faststream got 'hello' as text/plain");
  EXPECT_EQ(r2->content_type, "text/plain");
}

TEST_F(KafkaInterop, BrookAnswersAFastStreamRequest) {
  auto topic = unique("brook-rpc");
  kafka::broker broker{bootstrap()};
  std::mutex mtx;
  std::vector<std::string> froms;
  broker
      .subscriber(
          kafka::topic{.name = topic, .group = "brook", .reset = kafka::offset_reset::earliest})
      .handle([&](const json::value& body, const brook::message& m) -> json::value {
        std::lock_guard lock{mtx};
        auto* from = m.header("x-from");
        froms.push_back(from ? *from : "");
        return json::object{{"echo", body}, {"by", "brook"}};
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto out = run_client("request " + quote(topic) + " " + quote(R"({"q": 2})"));
  auto v = json::parse(out).as_object();
  EXPECT_EQ(v.at("body"), json::parse(R"({"echo":{"q":2},"by":"brook"})"));
  EXPECT_EQ(v.at("correlation_id"), "py-request");
  EXPECT_EQ(v.at("content_type"), "application/json");
  std::lock_guard lock{mtx};
  EXPECT_EQ(froms, std::vector<std::string>{"python"}) << "user headers arrive";
}

TEST_F(KafkaInterop, BrookDecodesWhatFastStreamPublishes) {
  auto topic = unique("fs-pub");
  kafka::broker broker{bootstrap()};
  std::mutex mtx;
  std::vector<brook::headers> seen;
  std::vector<std::string> bodies, keys;
  broker
      .subscriber(
          kafka::topic{.name = topic, .group = "brook", .reset = kafka::offset_reset::earliest})
      .handle([&](const json::value& body, const brook::message& m) {
        std::lock_guard lock{mtx};
        bodies.push_back(json::serialize(body));
        keys.emplace_back(m.metadata("key"));
        seen.push_back(m.headers());
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  run_client("publish " + quote(topic) + " " + quote(R"({"k": "v", "n": [1, 2]})") +
             " x-a=1 x-b=two");
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock{mtx};
        return bodies.size() == 1;
      },
      20s));
  std::lock_guard lock{mtx};
  EXPECT_EQ(json::parse(bodies[0]), json::parse(R"({"k":"v","n":[1,2]})"));
  EXPECT_EQ(keys[0], "py-key");
  auto& h = seen[0];
  ASSERT_NE(h.find("correlation_id"), nullptr);
  EXPECT_EQ(*h.find("correlation_id"), "py-cid");
  ASSERT_NE(h.find("content-type"), nullptr);
  EXPECT_EQ(*h.find("content-type"), "application/json");
  ASSERT_NE(h.find("x-b"), nullptr);
  EXPECT_EQ(*h.find("x-b"), "two");
}

}  // namespace
