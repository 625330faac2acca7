#pragma once
/// @file
/// Middlewares: code that runs around every message of a subscriber (consume
/// scope) and every message it publishes (publish scope).
///
/// Middlewares registered on the app, broker, router and subscriber run
/// outermost first on receive and in reverse order after processing. They run
/// inside the handler actor, on the message's own turn, so they need no locks
/// for per-message state and cost no extra actor hop.
///
/// @code
/// struct timing final : brook::middleware {
///   void on_receive(brook::message& m) override { m.context().set("t0", clock::now()); }
///   void after_processed(brook::message& m, std::exception_ptr) override {
///     metrics.observe(clock::now() - *m.context().get<clock::time_point>("t0"));
///   }
/// };
/// broker.middleware(std::make_shared<timing>());
/// @endcode
#include <brook/message.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <typeindex>
#include <utility>
#include <vector>

namespace brook {

class middleware {
public:
  virtual ~middleware() = default;
  /// Before the body is decoded. Throwing fails the message like a handler error.
  virtual void on_receive(message&) {}
  /// After the handler and its publishes; `error` is null on success.
  virtual void after_processed(message&, std::exception_ptr /*error*/) {}
  /// Every message the handler publishes (results, replies) passes here.
  virtual void on_publish(outgoing&) {}
  /// Maps a handler exception to an outcome; nullopt = not mine, ask the next.
  virtual std::optional<ack_action> on_exception(message&, const std::exception_ptr&) {
    return std::nullopt;
  }
};

using middleware_ptr = std::shared_ptr<middleware>;

/// Exception mapping registered per exception type (FastStream's
/// ExceptionMiddleware). The first registration whose type matches wins.
/// @code
/// auto errors = std::make_shared<brook::exception_middleware>();
/// errors->on<db_timeout>([](const db_timeout&, brook::message&) { return brook::ack_action::nack; });
/// errors->on<bad_order>([&dlq](const bad_order& e, brook::message& m) {
///   dlq.publish(std::string{m.body()});                 // park it elsewhere
///   return brook::ack_action::ack;
/// });
/// app.middleware(errors);
/// @endcode
class exception_middleware final : public middleware {
public:
  /// `f(const E&, message&)` returns an `ack_action` (or void = only observe).
  template <class E, class F>
  exception_middleware& on(F f) {
    handlers_.push_back([f = std::move(f)](message& m, const std::exception_ptr& ep)
                          -> std::pair<bool, std::optional<ack_action>> {
      try {
        std::rethrow_exception(ep);
      } catch (const E& e) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const E&, message&>>) {
          f(e, m);
          return {true, std::nullopt};
        } else {
          return {true, f(e, m)};
        }
      } catch (...) {
        return {false, std::nullopt};
      }
    });
    return *this;
  }

  std::optional<ack_action> on_exception(message& m, const std::exception_ptr& ep) override {
    for (auto& h : handlers_)
      if (auto [matched, action] = h(m, ep); matched)
        return action;
    return std::nullopt;
  }

private:
  std::vector<std::function<std::pair<bool, std::optional<ack_action>>(
    message&, const std::exception_ptr&)>>
    handlers_;
};

}  // namespace brook
