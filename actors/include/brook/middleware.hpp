#pragma once
/// @file
/// Middlewares: code that runs around every message of a subscriber (consume
/// scope) and every message it publishes (publish scope).
///
/// Middlewares registered on the app, broker, router and subscriber run
/// outermost first on receive and in reverse order after processing. They run
/// inside the handler actor, on the message's own turn, so they need no locks
/// for per-message state and cost no extra actor hop. State shared across
/// messages belongs in a `middleware::shared`, which runs as an actor of its own.
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
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

/// One message as a `shared` middleware sees it, on the middleware's own actor.
/// Read-only; the message itself stays with its handler actor.
class admission_query {
public:
  admission_query(std::shared_ptr<const envelope> env, std::string subscriber,
                  std::uint32_t attempt, std::uint64_t run)
      : env_(std::move(env)), subscriber_(std::move(subscriber)), attempt_(attempt), run_(run) {}
  std::string_view subscriber() const noexcept { return subscriber_; }  ///< its address
  std::string_view channel() const noexcept { return env_->channel; }
  std::string_view message_id() const noexcept { return env_->message_id; }
  std::string_view correlation_id() const noexcept { return env_->correlation_id; }
  const brook::headers& headers() const noexcept { return env_->headers; }
  const std::string* header(std::string_view key) const noexcept { return env_->headers.find(key); }
  const delivery_info& delivery() const noexcept { return env_->delivery; }
  /// This run's attempt: 1 = first delivery, more for redeliveries and retries.
  std::uint32_t attempt() const noexcept { return attempt_; }
  /// Names this run of the handler: `settled` gets the same value as `admit`.
  std::uint64_t run() const noexcept { return run_; }

private:
  std::shared_ptr<const envelope> env_;
  std::string subscriber_;
  std::uint32_t attempt_;
  std::uint64_t run_;
};

/// What a `shared` middleware decides for one message.
struct admission {
  enum class verdict : std::uint8_t {
    proceed,  ///< run the handler (after `delay`)
    wait,     ///< hold the message (and its credit) and ask again after `delay`
    skip,     ///< ack it without running the handler (a duplicate); counted as `skipped`
    refuse,   ///< fail it with `admission_refused`: retry, dead-letter or reject by policy
  };
  verdict what = verdict::proceed;
  std::chrono::milliseconds delay{0};
  std::string reason;  ///< skip, refuse: logged with the message's ids

  static admission go(std::chrono::milliseconds after = {}) {
    return {verdict::proceed, after, {}};
  }
  static admission ask_again(std::chrono::milliseconds after) { return {verdict::wait, after, {}}; }
  static admission skip(std::string why) { return {verdict::skip, {}, std::move(why)}; }
  static admission refuse(std::string why) { return {verdict::refuse, {}, std::move(why)}; }
};

/// How an admitted run ended, as `shared::settled` hears it.
enum class run_outcome : std::uint8_t {
  processed,  ///< the handler (and its publishes) succeeded
  failed,     ///< it threw, timed out or its result could not be published
  invalid,    ///< its body did not decode: the input's fault, not the handler's
  abandoned,  ///< it never finished: its handler actor died, or a later middleware said no
};

/// A middleware with state shared across messages and subscribers (a rate
/// limiter, a circuit breaker, a deduplication window). It runs as an actor of
/// its own, one call at a time, so its state needs no locks: each handler run
/// asks `admit` first and reports `settled` after. Every `proceed` gets exactly
/// one `settled`, also when the handler actor dies (`abandoned`). While a
/// message waits, it keeps its credit: a limited subscriber slows its broker
/// down instead of buffering. Ready-made ones: `brook/middleware/rate_limit.hpp`,
/// `circuit_breaker.hpp`, `dedup.hpp`.
/// @code
/// struct one_per_tenant final : brook::middleware::shared {     // at most one in flight each
///   std::set<std::string, std::less<>> busy;
///   brook::middleware::admission admit(const brook::middleware::admission_query& q) override {
///     auto* t = q.header("tenant");
///     if (!t || busy.insert(*t).second)
///       return brook::middleware::admission::go();
///     return brook::middleware::admission::ask_again(std::chrono::milliseconds{20});
///   }
///   void settled(const brook::middleware::admission_query& q, brook::middleware::run_outcome)
///   override {
///     if (auto* t = q.header("tenant")) busy.erase(*t);
///   }
/// };
/// broker.subscriber("jobs").middleware(std::make_shared<one_per_tenant>()).handle(...);
/// @endcode
/// A throwing `admit` refuses the message (the exception's text is the reason).
/// The inline hooks are final here: everything such a middleware keeps is touched
/// only on its own actor.
class shared : public base {
public:
  virtual admission admit(const admission_query& q) = 0;
  virtual void settled(const admission_query& /*q*/, run_outcome /*how*/) {}

  void on_receive(message&) final {}
  void after_processed(message&, std::exception_ptr) final {}
  void on_publish(outgoing&) final {}
  std::optional<ack_action> on_exception(message&, const std::exception_ptr&) final {
    return std::nullopt;
  }
};

}  // namespace middleware

/// A `shared` middleware refused the message (`admission::refuse`).
class admission_refused : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

using middleware_ptr = std::shared_ptr<middleware::base>;

}  // namespace brook
