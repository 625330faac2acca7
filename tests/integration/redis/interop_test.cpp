// Wire compatibility with Python FastStream on a real Redis: FastStream answers brook's
// requests, brook answers FastStream's, and each decodes what the other publishes. Needs the
// venv from scripts/interop/setup_venv.sh (BROOK_RUN_DIR, default /tmp/brook-run).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "envelope.hpp"
#include "test_support.hpp"

namespace {

using namespace brook_test;
namespace json = boost::json;

std::string python() {
  const char* run = std::getenv("BROOK_RUN_DIR");
  return std::string{run && *run ? run : "/tmp/brook-run"} + "/venv/bin/python";
}

std::string script(const std::string& name) {
  return std::string{BROOK_INTEROP_DIR} + "/" + name;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

/// Runs a short Python command; returns its stdout, fails the test on a non-zero exit.
std::string run_client(const std::string& args) {
  auto cmd = "timeout 60 " + python() + " " + script("faststream_client.py") + " " + args;
  std::string out;
  auto* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "cannot run " << cmd;
    return out;
  }
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  auto rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}

/// The FastStream service, started for one test and stopped with SIGTERM.
class faststream_app {
public:
  explicit faststream_app(const std::string& prefix) {
    int fds[2];
    if (::pipe(fds) != 0)
      return;
    ::setenv("BROOK_INTEROP_PREFIX", prefix.c_str(), 1);
    ::setenv("BROOK_REDIS_URL", redis_url().c_str(), 1);
    auto py = python();
    auto app = script("faststream_app.py");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(py.c_str(), py.c_str(), app.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~faststream_app() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
          close_out();
          return;
        }
        std::this_thread::sleep_for(50ms);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_out();
  }
  faststream_app(const faststream_app&) = delete;
  faststream_app& operator=(const faststream_app&) = delete;

  /// Waits for the app's READY line.
  bool ready(std::chrono::milliseconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string seen;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      char buf[512];
      auto n = ::read(out_, buf, sizeof buf);
      if (n <= 0)
        return false;  // exited
      seen.append(buf, static_cast<std::size_t>(n));
      if (seen.find("READY") != std::string::npos)
        return true;
    }
    return false;
  }

private:
  void close_out() {
    if (out_ >= 0)
      ::close(out_);
    out_ = -1;
  }
  pid_t pid_ = -1;
  int out_ = -1;
};

class RedisInterop : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(python())) {
      // CI sets BROOK_REQUIRE_INTEROP=1: there a missing venv is a failure, not a skip.
      if (std::getenv("BROOK_REQUIRE_INTEROP"))
        FAIL() << "no FastStream venv at " << python() << ": run scripts/interop/setup_venv.sh";
      GTEST_SKIP() << "no FastStream venv at " << python() << ": run scripts/interop/setup_venv.sh";
    }
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
