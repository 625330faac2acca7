#pragma once
/// @file
/// Testing services without a server: the test broker swaps a broker's
/// transport for the in-memory one (keeping every declaration), runs the real
/// subscriber path on a private runtime, and records what handlers received
/// and what was published.
///
/// @code
/// brook::memory::broker broker;          // or brook::redis::broker{...}
/// declare(broker);                       // the service's own subscribers
/// brook::testing::test_broker tb{broker};
/// auto reply = tb.request<greeting>("user-created", user_created{"Ada", 1});
/// EXPECT_EQ(reply.text, "Hello, Ada");
/// EXPECT_THAT(tb.handler("user-created").calls(), SizeIs(1));
/// EXPECT_EQ(tb.published<greeting>("greetings").size(), 1);
/// @endcode
/// `{.with_real = true}` keeps the broker's own transport, so the same test
/// runs against the real server.
#include <boost/json/value.hpp>
#include <brook/app.hpp>
#include <brook/broker.hpp>
#include <brook/detail/runtime.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook::memory {
class memory_transport;
}

namespace brook::testing {

struct test_options {
  bool with_real = false;   ///< run against the broker's real transport
  std::size_t workers = 2;  ///< scheduler threads of the private runtime
};

/// Bodies a subscriber's handlers were called with, while a test broker records.
struct call_log {
  std::mutex mtx;
  std::vector<boost::json::value> bodies;
  void add(boost::json::value v) {
    std::lock_guard lock{mtx};
    bodies.push_back(std::move(v));
  }
};

/// What one subscriber's handlers were called with.
class handler_probe {
public:
  explicit handler_probe(std::shared_ptr<call_log> log) : log_(std::move(log)) {}
  /// Each call's body as JSON (raw bodies as a JSON string).
  std::vector<boost::json::value> calls() const {
    std::lock_guard lock{log_->mtx};
    return log_->bodies;
  }
  template <class T>
  std::vector<T> calls_as() const {
    std::vector<T> out;
    for (auto& v : calls()) {
      T x{};
      if (!brook::codec::from_json(v, x))
        out.push_back(std::move(x));
    }
    return out;
  }

private:
  std::shared_ptr<call_log> log_;
};

class test_broker {
public:
  explicit test_broker(broker& b, test_options o = {});
  /// Tests a whole app: its middlewares, dependencies and lifespan hooks too.
  explicit test_broker(app& a, test_options o = {});
  ~test_broker();
  test_broker(const test_broker&) = delete;
  test_broker& operator=(const test_broker&) = delete;

  template <class T>
  error_info publish(std::string channel, const T& body, publish_options o = {}) {
    return broker_->publish(std::move(channel), body, std::move(o));
  }
  template <class R, class T>
  R request(std::string channel, const T& body, request_options o = {}) {
    return broker_->request<R>(std::move(channel), body, std::move(o));
  }

  /// The calls of the subscriber declared on `address`.
  handler_probe handler(std::string_view address) const;
  /// Everything published to `channel` (results, replies, direct publishes).
  std::vector<outgoing> published_raw(std::string_view channel) const;
  template <class T>
  std::vector<T> published(std::string_view channel) const {
    std::vector<T> out;
    for (auto& m : published_raw(channel)) {
      T x{};
      if (!brook::codec::decode_body(m.body, m.content_type, x))
        out.push_back(std::move(x));
    }
    return out;
  }
  /// Waits until nothing is queued or in flight; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout = std::chrono::seconds{5}) const;
  /// Counters of the subscriber on `address`.
  detail::subscriber_snapshot stats(std::string_view address) const;
  detail::runtime& runtime() const;
  broker& target() const noexcept { return *broker_; }

private:
  class recorder;
  void swap_in(broker& b);

  broker* broker_ = nullptr;
  app* app_ = nullptr;
  test_options opts_;
  std::unique_ptr<detail::runtime> own_;
  std::vector<std::pair<broker*, std::shared_ptr<transport>>> saved_;
  std::vector<std::shared_ptr<recorder>> recorders_;
  std::vector<std::shared_ptr<memory::memory_transport>> memories_;
  std::vector<std::pair<const detail::subscriber_decl*, std::shared_ptr<call_log>>> calls_;
};

}  // namespace brook::testing
