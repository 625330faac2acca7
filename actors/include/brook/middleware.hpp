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
/// struct timing final : brook::middleware::base {
///   void on_receive(brook::message& m) override { m.context().set("t0", clock::now()); }
///   void after_processed(brook::message& m, std::exception_ptr) override {
///     metrics.observe(clock::now() - *m.context().get<clock::time_point>("t0"));
///   }
/// };
/// broker.middleware(std::make_shared<timing>());
/// @endcode
///
/// Policy middlewares (`brook/middleware/retry.hpp`, `dead_letter.hpp`,
/// `timeout.hpp`, `exceptions.hpp` in the `middleware` module) set what the
/// core carries out for every subscriber they wrap, through `configure`: a
/// retry policy on a broker applies to all its subscribers, and a subscriber's
/// own `.retry(...)` / `.dead_letter(...)` / `.timeout(...)` win over it.
#include <brook/message.hpp>
#include <brook/policy.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace brook {

namespace detail {
struct publisher_decl;
}

/// What the core does with a subscriber's failures, as policy middlewares set it.
struct subscriber_policies {
  std::optional<retry_policy> retry;                    ///< none = no retries
  std::shared_ptr<detail::publisher_decl> dead_letter;  ///< null = reject after the last attempt
  /// Retries are republished here where the broker cannot wait (see
  /// `subscriber_builder::retry_through`); null = in process.
  std::shared_ptr<detail::publisher_decl> retry_through;
  std::chrono::milliseconds timeout{0};  ///< 0 = deferred results never time out
};

namespace middleware {

/// The base of every middleware.
class base {
public:
  virtual ~base() = default;
  /// At start, once per subscriber this middleware wraps, outermost first: sets
  /// the policies the core carries out (inner middlewares, then the subscriber's
  /// own options, override outer ones).
  virtual void configure(subscriber_policies&) const {}
  /// Before the body is decoded. Throwing fails the message like a handler error.
  virtual void on_receive(message&) {}
  /// After the handler and its publishes; `error` is null on success.
  virtual void after_processed(message&, std::exception_ptr /*error*/) {}
  /// Every message published passes here: a handler's results and replies (the
  /// subscriber's whole chain), and `publisher.publish`, `broker.publish` and
  /// requests (the app's and the broker's middlewares).
  virtual void on_publish(outgoing&) {}
  /// Maps a handler exception to an outcome; nullopt = not mine, ask the next.
  virtual std::optional<ack_action> on_exception(message&, const std::exception_ptr&) {
    return std::nullopt;
  }
};

/// A middleware that wraps the handler call itself (FastStream's consume_scope):
/// a span, a timer, a lock, a retry of a synchronous call.
/// @code
/// struct timed final : brook::middleware::around {
///   void consume_scope(brook::message& m, const std::function<void()>& next) override {
///     auto t0 = clock::now();
///     next();                                   // decode, inject, the handler
///     histogram.observe(clock::now() - t0);
///   }
/// };
/// @endcode
/// `next()` runs the inner scopes and the handler; it returns when the handler
/// returns (for a `task` or `deferred` result: when it first waits; see
/// `after_processed` for the outcome). Throwing before `next()` fails the
/// message like a handler error; not calling it skips the handler (the message
/// is settled as processed, without a result). Plain middlewares cost nothing here.
class around : public base {
public:
  virtual void consume_scope(message& m, const std::function<void()>& next) = 0;
};

}  // namespace middleware

using middleware_ptr = std::shared_ptr<middleware::base>;

}  // namespace brook
