// Wire compatibility with Python FastStream 0.7.8 on a real nats-server, both ways:
// FastStream answers brook's requests (core: the native inbox; JetStream: a reply_to
// header), brook answers FastStream's, and each decodes what the other publishes, with
// correlation ids, content types and user headers intact. Needs the venv from
// scripts/interop/setup_venv.sh.
#include <boost/json.hpp>
#include <brook/app.hpp>
#include <brook/nats/broker.hpp>
#include <mutex>

#include "../../support/eventually.hpp"
#include "../../support/faststream.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::nats_url;
using brook_test::unique;
using brook_test_support::eventually;
using brook_test_support::quote;
namespace json = boost::json;
namespace nats = brook::nats;

namespace {

class NatsInterop : public ::testing::Test {
protected:
  void SetUp() override { BROOK_REQUIRE_FASTSTREAM(); }
};

std::string run_client(const std::string& args) {
  return brook_test_support::run_python("faststream_nats_client.py", args);
}

TEST_F(NatsInterop, FastStreamAnswersBrookRequests) {
  auto prefix = unique("fs");
  brook_test_support::faststream_app py{
      "faststream_nats_app.py", {{"BROOK_INTEROP_PREFIX", prefix}, {"BROOK_NATS_URL", nats_url()}}};
  ASSERT_TRUE(py.ready()) << "the FastStream app did not start";
  nats::broker broker{nats_url()};
  brook::app app{broker};
  app.start({.log_level = "off"});
  for (std::string kind : {"core", "js"}) {
    SCOPED_TRACE(kind);
    brook::outgoing m;
    m.channel = prefix + "." + kind;
    m.body = R"({"q":1,"name":"brook"})";
    m.content_type = "application/json";
    m.correlation_id = "brook-" + kind;
    m.headers.set("x-tenant", "acme");
    if (kind == "js")
      m.driver = nats::jetstream_out{};  // FastStream's JetStream subscriber, reply_to in a header
    auto reply = broker.request_raw(std::move(m), 10s);
    ASSERT_TRUE(reply);
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
  brook::outgoing text;
  text.channel = prefix + ".text";
  text.body = "hello";
  text.content_type = "text/plain";
  auto reply = broker.request_raw(std::move(text), 10s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "faststream got 'hello' as text/plain");
  EXPECT_EQ(reply->content_type, "text/plain");
}

TEST_F(NatsInterop, BrookAnswersFastStreamRequests) {
  auto prefix = unique("brook");
  auto stream = prefix + "-s";
  nats::broker broker{nats_url()};
  std::mutex mtx;
  std::vector<std::string> froms;
  auto answer = [&](const json::value& body, const brook::message& m) -> json::value {
    std::lock_guard lock{mtx};
    auto* from = m.header("x-from");
    froms.push_back(from ? *from : "");
    return json::object{{"echo", body}, {"by", "brook"}};
  };
  broker.subscriber(prefix + ".core").handle(answer);
  broker.subscriber(nats::jetstream{.name = prefix + ".js", .stream = stream, .queue = "brook"})
      .handle(answer);
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  for (auto [kind, subject] : {std::pair{std::string{"core"}, prefix + ".core"},
                               std::pair{"js:" + stream, prefix + ".js"}}) {
    SCOPED_TRACE(kind);
    auto out =
        run_client("request " + quote(kind) + " " + quote(subject) + " " + quote(R"({"q": 2})"));
    auto v = json::parse(out).as_object();
    EXPECT_EQ(v.at("body"), json::parse(R"({"echo":{"q":2},"by":"brook"})"));
    EXPECT_EQ(v.at("correlation_id"), "py-request");
    EXPECT_EQ(v.at("content_type"), "application/json");
  }
  std::lock_guard lock{mtx};
  EXPECT_EQ(froms, (std::vector<std::string>{"python", "python"})) << "user headers arrive";
}

TEST_F(NatsInterop, BrookDecodesWhatFastStreamPublishes) {
  auto subject = unique("fs-pub");
  nats::broker broker{nats_url()};
  std::mutex mtx;
  std::vector<brook::headers> seen;
  std::vector<std::string> bodies;
  broker.subscriber(subject).handle([&](const json::value& body, const brook::message& m) {
    std::lock_guard lock{mtx};
    bodies.push_back(json::serialize(body));
    seen.push_back(m.headers());
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  run_client("publish core " + quote(subject) + " " + quote(R"({"k": "v", "n": [1, 2]})") +
             " x-a=1 x-b=two");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return bodies.size() == 1;
  }));
  std::lock_guard lock{mtx};
  EXPECT_EQ(json::parse(bodies[0]), json::parse(R"({"k":"v","n":[1,2]})"));
  auto& h = seen[0];
  ASSERT_NE(h.find("correlation_id"), nullptr);
  EXPECT_EQ(*h.find("correlation_id"), "py-cid");
  ASSERT_NE(h.find("content-type"), nullptr);
  EXPECT_EQ(*h.find("content-type"), "application/json");
  ASSERT_NE(h.find("x-b"), nullptr);
  EXPECT_EQ(*h.find("x-b"), "two");
}

}  // namespace
