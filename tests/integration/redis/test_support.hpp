#pragma once
// Helpers shared by the Redis driver tests: a recording sink, a synchronous admin client
// (plain hiredis, to look at the server behind the driver's back) and publish-and-wait.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <brook/redis/settings.hpp>
#include <brook/redis/specs.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace brook_test {

using namespace std::chrono_literals;

inline std::string redis_url() {
  const char* url = std::getenv("BROOK_REDIS_URL");
  return url && *url ? url : "redis://127.0.0.1:6390";
}

/// A name no other test (or earlier run) uses.
inline std::string unique(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "brook-test:" + prefix + ":" + std::to_string(rng() % 1000000000);
}

/// Records deliveries and failures; waits for them with a deadline.
class recording_sink final : public brook::delivery_sink {
public:
  /// Runs on the driver thread for each delivery, before it is recorded.
  std::function<void(const brook::envelope_ptr&)> on_deliver;

  void deliver(brook::envelope_ptr env) override {
    if (on_deliver)
      on_deliver(env);
    std::lock_guard guard{mutex_};
    got_.push_back(std::move(env));
    cv_.notify_all();
  }
  void failed(brook::error_info err) override {
    std::lock_guard guard{mutex_};
    failures_.push_back(std::move(err));
    cv_.notify_all();
  }
  void subscribed() override { ++subscribed_count; }
  void interrupted(const brook::error_info&) override { ++interrupted_count; }
  std::atomic<int> subscribed_count{0}, interrupted_count{0};
  void gap(const brook::error_info& why) override {
    std::lock_guard guard{mutex_};
    gaps_.push_back(why);
  }
  /// The gaps the driver reported (`delivery_sink::gap`).
  std::vector<brook::error_info> gaps() {
    std::lock_guard guard{mutex_};
    return gaps_;
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  bool wait_failed(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, timeout, [&] { return !failures_.empty(); });
  }
  std::size_t count() {
    std::lock_guard guard{mutex_};
    return got_.size();
  }
  brook::envelope_ptr at(std::size_t i) {
    std::lock_guard guard{mutex_};
    return got_.at(i);
  }
  std::vector<std::string> bodies() {
    std::lock_guard guard{mutex_};
    std::vector<std::string> out;
    for (auto& e : got_)
      out.push_back(e->body);
    return out;
  }
  std::vector<brook::error_info> failures() {
    std::lock_guard guard{mutex_};
    return failures_;
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<brook::envelope_ptr> got_;
  std::vector<brook::error_info> failures_;
  std::vector<brook::error_info> gaps_;
};

/// A synchronous hiredis connection for looking at (and poking) the server directly.
class admin {
public:
  explicit admin(const std::string& url = redis_url()) {
    brook::redis::endpoint ep;
    auto err = brook::redis::parse_url(url, ep);
    EXPECT_FALSE(err) << err.message;
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
    if (!ctx_ || ctx_->err)
      ADD_FAILURE() << "cannot reach redis at " << url
                    << " (run scripts/services.sh start redis): " << (ctx_ ? ctx_->errstr : "oom");
  }
  ~admin() {
    if (ctx_)
      redisFree(ctx_);
  }
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  /// Runs a command; the reply is freed by the returned handle.
  std::shared_ptr<redisReply> run(const std::vector<std::string>& argv) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    if (!r) {
      ADD_FAILURE() << "redis command " << argv.at(0) << " failed: " << ctx_->errstr;
      return {};
    }
    return {r, freeReplyObject};
  }
  long long integer(const std::vector<std::string>& argv) {
    auto r = run(argv);
    return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  }
  /// Pending entries of a group (XPENDING summary count).
  long long pending(const std::string& stream, const std::string& group) {
    auto r = run({"XPENDING", stream, group});
    return r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? r->element[0]->integer : -1;
  }
  /// Whether a client whose name contains `name_part` runs `cmd` (any command when empty).
  bool client_in(const std::string& name_part, const std::string& cmd) {
    auto r = run({"CLIENT", "LIST"});
    if (!r || !r->str)
      return false;
    std::string text{r->str, r->len};
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto end = text.find('\n', pos);
      auto line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      if (line.find(name_part) != std::string::npos &&
          (cmd.empty() || line.find(" cmd=" + cmd + " ") != std::string::npos))
        return true;
      if (end == std::string::npos)
        break;
      pos = end + 1;
    }
    return false;
  }

private:
  redisContext* ctx_ = nullptr;
};

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Publishes and waits for the callback.
inline brook::error_info publish_wait(brook::transport& t, brook::outgoing msg,
                                      std::chrono::milliseconds timeout = 5s) {
  auto done = std::make_shared<std::promise<brook::error_info>>();
  auto f = done->get_future();
  t.publish(std::move(msg), [done](const brook::error_info& e) { done->set_value(e); });
  if (f.wait_for(timeout) != std::future_status::ready)
    return {brook::errc::timeout, "publish callback not called"};
  return f.get();
}

inline brook::outgoing message(std::string channel, std::string body,
                               std::string kind = "channel") {
  brook::outgoing out;
  out.channel = std::move(channel);
  out.body = std::move(body);
  out.content_type = "application/json";
  if (kind == "list")
    out.driver = brook::redis::list_out{};
  else if (kind == "stream")
    out.driver = brook::redis::stream_out{};
  return out;
}

/// A transport on the test server, started.
inline std::shared_ptr<brook::transport> connect(brook::redis::settings s = {}) {
  if (s.url == brook::redis::settings{}.url)
    s.url = redis_url();
  auto t = brook::redis::make_transport(s);
  auto err = t->start();
  EXPECT_FALSE(err) << err.message;
  return t;
}

/// Settings for a test that stops and starts its own server: short connect timeout,
/// backoff and block time, so the driver notices and reconnects within the test.
inline brook::redis::settings quick_reconnect_settings() {
  brook::redis::settings s;
  s.connect_timeout = std::chrono::milliseconds{300};
  s.reconnect_backoff_min = std::chrono::milliseconds{50};
  s.reconnect_backoff_max = std::chrono::milliseconds{200};
  s.block_time = std::chrono::milliseconds{200};
  return s;
}

/// Runs scripts/services.sh with the given arguments and extra environment.
inline int services(const std::string& args, const std::string& env = "") {
  auto cmd = env + " " + BROOK_SERVICES_SH + " " + args + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

}  // namespace brook_test
