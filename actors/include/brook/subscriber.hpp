#pragma once
/// @file
/// Subscribers: what a service consumes, how (credit, concurrency, acks) and
/// which handler runs for each message.
///
/// @code
/// broker.subscriber("user-created")
///       .publisher("greetings")          // the result is published here
///       .max_in_flight(64)               // credit window: at most 64 messages in memory
///       .max_concurrency(4)              // 4 handler actors
///       .ack(brook::ack_policy::nack_on_error)
///       .handle([](const user_created& u) -> greeting { return {"Hello, " + u.username}; });
/// @endcode
///
/// Several handlers on one subscriber pick messages by filter, first match wins:
/// @code
/// auto sub = broker.subscriber("events");
/// sub.handle(on_created, [](const brook::message& m) { return m.header("type") &&
/// *m.header("type") == "created"; }); sub.handle(on_other);   // no filter: takes the rest
/// @endcode
#include <boost/json/object.hpp>
#include <brook/detail/handler.hpp>
#include <brook/middleware.hpp>
#include <brook/observer.hpp>
#include <brook/policy.hpp>
#include <brook/publisher.hpp>
#include <brook/transport.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace brook {

/// Run-time options of a subscriber.
///
/// | option            | default           | meaning |
/// |-------------------|-------------------|---------|
/// | `max_in_flight`   | 64                | credit window: messages taken from the broker and not
/// yet settled | | `max_concurrency` | 1                 | handler actors working in parallel | |
/// `ack`             | `reject_on_error` | see `ack_policy` | | `blocking`        | false |
/// handlers run on dedicated threads (blocking clients) | | `codec`           | tolerant          |
/// `strict` rejects unknown fields; `max_body_bytes` caps bodies | | `restarts`        | 5 per 10
/// s, 10 ms..1 s backoff | actor restarts before escalating (see `restart_policy`) | | `retry` |
/// none              | retries of failed messages (a handler error, a nack), max attempts (see
/// `retry_policy`); decode errors and outcomes forced by `on_exception` are not retried | |
/// `dead_letter`     | none              | where messages go after `retry.max_attempts` | |
/// `timeout`         | none              | a deferred result that takes longer fails with
/// `handler_timeout` |
struct subscriber_options {
  std::size_t max_in_flight = 64;
  std::size_t max_concurrency = 1;
  ack_policy ack = ack_policy::reject_on_error;
  bool blocking = false;
  codec_options codec{};
  restart_policy restarts{};
  std::optional<retry_policy> retry;
  std::chrono::milliseconds timeout{0};
  /// Most messages per handler call; 0 = one message per call (see `batch`).
  std::size_t batch = 0;
  /// How long a partial batch waits for more messages; 0 = it runs with what has arrived.
  std::chrono::milliseconds batch_wait{0};
  /// Messages with the same key (`message::metadata("key")`) go to the same handler actor.
  bool key_ordered = false;
};

using filter_fn = std::function<bool(const message&)>;

namespace detail {

struct handler_entry {
  handler_ptr handler;
  filter_fn filter;  ///< empty = accepts everything
};

struct subscriber_decl {
  subscription_spec spec;
  subscriber_options options;
  std::string name;  ///< FastStream-style handler name for logs and AsyncAPI
  std::string title, description;
  bool include_in_schema = true;
  boost::json::object bindings;
  std::vector<handler_entry> handlers;
  std::vector<std::shared_ptr<publisher_decl>> publishers;
  std::shared_ptr<publisher_decl> dead_letter;    ///< null = reject after the last attempt
  std::shared_ptr<publisher_decl> retry_through;  ///< null = retry through the broker or in process
  std::vector<middleware_ptr> middlewares;        ///< outermost first
  std::shared_ptr<dependency_registry> deps;
  metric_labels labels;  ///< extra telemetry labels (`subscriber_builder::labels`)
  /// Set while a test broker records what the handlers are called with (each body as JSON).
  std::function<void(boost::json::value)> record_call;
};

/// "user-created" -> "HandleUserCreated" (FastStream names handlers after functions).
std::string default_handler_name(std::string_view address);

}  // namespace detail

/// Declares a subscriber; returned by `broker.subscriber(...)` / `router.subscriber(...)`.
class subscriber_builder {
public:
  subscriber_builder(std::shared_ptr<detail::subscriber_decl> d,
                     std::function<std::shared_ptr<detail::publisher_decl>(std::string)> make_pub)
      : decl_(std::move(d)), make_pub_(std::move(make_pub)) {}

  /// The handler's results are also published to `address`.
  subscriber_builder& publisher(std::string address) {
    decl_->publishers.push_back(make_pub_(std::move(address)));
    return *this;
  }
  subscriber_builder& publisher(const brook::publisher& p) {
    decl_->publishers.push_back(p.decl());
    return *this;
  }
  /// The results are also published to a driver's typed target `typed.name`:
  /// `.publisher(brook::redis::stream_out{.name = "receipts", .maxlen = 10'000})`.
  template <spec_type T>
  requires requires(const T& t) { std::string{t.name}; }
  subscriber_builder& publisher(T typed) {
    auto d = make_pub_(std::string{typed.name});
    d->driver = std::move(typed);
    decl_->publishers.push_back(std::move(d));
    return *this;
  }
  subscriber_builder& max_in_flight(std::size_t n) {
    decl_->options.max_in_flight = n ? n : 1;
    return *this;
  }
  subscriber_builder& max_concurrency(std::size_t n) {
    decl_->options.max_concurrency = n ? n : 1;
    return *this;
  }
  subscriber_builder& ack(ack_policy p) {
    decl_->options.ack = p;
    return *this;
  }
  /// With `max_concurrency(n)`: messages with the same key (`message::metadata("key")`,
  /// a Kafka record's key) always go to the same one of the n handler actors, so each
  /// key's messages are handled in the order they arrived while different keys run in
  /// parallel; messages without a key go to the least busy actor. The commits stay
  /// safe (only the settled prefix of a partition is committed). The order holds for
  /// handlers that finish before they return; a deferred or coroutine result, or an
  /// in-process retry, lets the actor's next message start meanwhile.
  /// @code
  /// broker.subscriber(brook::kafka::topic{.name = "accounts", .group = "ledger"})
  ///     .max_concurrency(8).key_ordered()
  ///     .handle([](const posting& p) { apply(p); });   // per account, in order
  /// @endcode
  subscriber_builder& key_ordered(bool on = true) {
    decl_->options.key_ordered = on;
    return *this;
  }
  /// Handlers call blocking code: run them on dedicated threads.
  subscriber_builder& blocking(bool b = true) {
    decl_->options.blocking = b;
    return *this;
  }
  /// Reject unknown fields in bodies.
  subscriber_builder& strict(bool b = true) {
    decl_->options.codec.strict = b;
    return *this;
  }
  subscriber_builder& max_body_bytes(std::size_t n) {
    decl_->options.codec.max_body_bytes = n;
    return *this;
  }
  subscriber_builder& restarts(std::size_t max, std::chrono::milliseconds window) {
    decl_->options.restarts.max_restarts = max;
    decl_->options.restarts.window = window;
    return *this;
  }
  subscriber_builder& restarts(restart_policy p) {
    decl_->options.restarts = p;
    return *this;
  }
  /// Retries failed messages with backoff, up to `p.max_attempts` deliveries.
  subscriber_builder& retry(retry_policy p) {
    decl_->options.retry = p;
    return *this;
  }
  /// Where the broker cannot wait (no delayed nack), a retry is published to `p`
  /// (usually this subscriber's own address, or a retry queue) with the headers
  /// `x-brook-attempt` and `x-brook-retry-at` (ms since the epoch), and the input
  /// is acknowledged: the attempt count survives restarts and nothing waits in
  /// memory. A consumer holds such a message until its time. Use it where the
  /// address's consumers compete (a list, a queue): on fan-out kinds every
  /// subscriber would see the retry.
  /// @code
  /// broker.subscriber(brook::redis::list{.name = "jobs"})
  ///   .retry({.max_attempts = 5})
  ///   .retry_through(broker.publisher(brook::redis::list_out{.name = "jobs"}));
  /// @endcode
  subscriber_builder& retry_through(const brook::publisher& p) {
    decl_->retry_through = p.decl();
    return *this;
  }
  /// After the last attempt the message is published to `p` (any broker) with
  /// `x-brook-dead-letter-reason`, `x-brook-original-channel`, `x-brook-attempts`
  /// and `x-brook-broker-id` headers, then acknowledged.
  subscriber_builder& dead_letter(const brook::publisher& p) {
    decl_->dead_letter = p.decl();
    return *this;
  }
  /// Hands the handler up to `max` messages per call, as FastStream's `batch=True`
  /// does: its body is a `std::vector<T>` (or `boost::json::value`, an array) of
  /// their bodies, in the order they arrived; `message::batch()` has each one's
  /// headers and ids. A batch takes what has arrived (at most `max`); with `wait`,
  /// a partial batch waits up to `wait` for more. Credit stays per message (keep
  /// `max_in_flight` >= `max`). The outcome settles every message of the batch
  /// alike and the counters count messages; a result is one publish. A batch
  /// that does not decode runs again message by message, so a malformed message
  /// is rejected (or dead-lettered) alone and the others are handled. Dead
  /// letters and `retry_through` republish each message on its own.
  /// @code
  /// broker.subscriber(brook::nats::jetstream{.name = "events", .stream = "events", .batch = 100})
  ///     .batch(100, std::chrono::milliseconds{50})
  ///     .max_in_flight(200)
  ///     .handle([](const std::vector<event>& xs) { store(xs); });
  /// @endcode
  subscriber_builder& batch(std::size_t max,
                            std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
    decl_->options.batch = max;
    decl_->options.batch_wait = wait;
    return *this;
  }
  /// A deferred result not complete within `t` fails the message (`handler_timeout`).
  subscriber_builder& timeout(std::chrono::milliseconds t) {
    decl_->options.timeout = t;
    return *this;
  }
  subscriber_builder& middleware(middleware_ptr m) {
    decl_->middlewares.push_back(std::move(m));
    return *this;
  }
  /// AsyncAPI: handler name (default `Handle<Address>`), title, description.
  subscriber_builder& name(std::string n) {
    decl_->name = std::move(n);
    return *this;
  }
  /// Extra labels on this subscriber's metrics (beside `app_name`, `broker`, `handler`):
  /// `.labels({{"team", "payments"}})`.
  subscriber_builder& labels(metric_labels l) {
    decl_->labels = std::move(l);
    return *this;
  }
  subscriber_builder& title(std::string t) {
    decl_->title = std::move(t);
    return *this;
  }
  subscriber_builder& description(std::string d) {
    decl_->description = std::move(d);
    return *this;
  }
  subscriber_builder& include_in_schema(bool b) {
    decl_->include_in_schema = b;
    return *this;
  }

  /// Adds a handler; parameters are injected by type (see inject.hpp). A body
  /// taken by reference is valid during the call only (its object is reused
  /// for the next message on that thread); take it by value to keep it.
  template <class F>
  subscriber_builder& handle(F f, filter_fn filter = {}) {
    return handle_with(detail::make_handler(std::move(f)), std::move(filter));
  }
  /// Adds a prepared handler (e.g. `brook::actor_handler` for a CAF actor).
  subscriber_builder& handle_with(detail::handler_ptr h, filter_fn filter = {}) {
    decl_->handlers.push_back({std::move(h), std::move(filter)});
    return *this;
  }

  const std::shared_ptr<detail::subscriber_decl>& decl() const noexcept { return decl_; }

private:
  std::shared_ptr<detail::subscriber_decl> decl_;
  std::function<std::shared_ptr<detail::publisher_decl>(std::string)> make_pub_;
};

}  // namespace brook
