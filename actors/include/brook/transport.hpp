#pragma once
/// @file
/// The seam every broker driver implements.
///
/// A driver translates between its client library and `envelope` /
/// `outgoing`; the core owns actors, credit, timeouts, ack policy,
/// middleware, telemetry and AsyncAPI. The in-memory broker implements the
/// same seam, so the test broker runs the real subscriber path.
///
/// Contract in one paragraph: `subscribe` returns a `subscription`; the driver
/// calls `sink->deliver(env)` at most as many times as credit was granted with
/// `subscription::request(n)` (drivers for brokers that cannot pause, like
/// Redis pub/sub, buffer up to a bound and count what overflows). Every
/// delivered envelope carries an `acknowledger` (or none when the broker has no
/// acknowledgement); the core calls exactly one of ack/nack/reject on it.
/// Each subscription reports its `capabilities`; the core decides what a nack,
/// a handler's death or a drain means from them, never from the broker's name
/// (a nack of a delivery that cannot be redelivered is a counted drop).
/// `cancel(done)` stops a subscription: the driver takes nothing more from the
/// broker and calls `done` once no delivery can follow.
/// `publish` may be called from any thread; `done` is called exactly once.
///
/// @code
/// class my_transport final : public brook::transport {
///   std::string_view protocol() const noexcept override { return "mine"; }
///   std::unique_ptr<brook::subscription> subscribe(const brook::subscription_spec& s,
///       std::shared_ptr<brook::delivery_sink> sink) override;
///   void publish(brook::outgoing msg, brook::publish_callback done) override;
///   ...
/// };
/// @endcode
#include <atomic>
#include <brook/capabilities.hpp>
#include <brook/driver_spec.hpp>
#include <brook/errc.hpp>
#include <brook/headers.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace brook {

/// Settles one delivery. Exactly one call per delivery; later calls are ignored.
/// @warning Called from actor threads; implementations must be thread-safe.
class acknowledger {
public:
  virtual ~acknowledger() = default;
  /// Processing succeeded: remove the message (XACK, basic.ack, commit, ...).
  virtual void ack() = 0;
  /// Processing failed, try again: redeliver (requeue, seek back, leave pending).
  virtual void nack() = 0;
  /// Processing failed for good: drop or dead-letter (basic.reject, term, ...).
  virtual void reject() = 0;
  /// Redeliver after `delay` (JetStream nak with delay, a DLX with TTL). Only
  /// called when the subscription's capabilities say `delayed_nack`.
  virtual void nack_after(std::chrono::milliseconds delay) {
    (void)delay;
    nack();
  }
  /// Still working: extends the broker's ack deadline (JetStream +WPI). Optional.
  virtual void in_progress() {}
};

/// Where and how often a message was delivered, in the same words on every driver.
struct delivery_info {
  std::uint32_t attempt = 1;      ///< 1 on the first delivery; from the broker or an attempt header
  bool redelivered = false;       ///< the broker says it delivered this message before
  std::int32_t partition = -1;    ///< Kafka partition; -1 when the broker has none
  std::int64_t offset = -1;       ///< Kafka offset / stream sequence; -1 when none
  std::int64_t timestamp_ms = 0;  ///< broker timestamp (ms since the epoch); 0 when unknown
  std::string broker_id;          ///< the broker's own id: stream entry id, list key, delivery tag
};

/// One inbound message as a driver hands it to the core.
namespace detail {
/// Who settles a delivery the core holds: the handler that starts it, or the
/// subscriber giving it back because it stops first. The subscriber arms it with
/// the delivery's id when it hands the envelope out; the first to `take` that id
/// wins, so a delivery is never both handled and returned or counted as lost (and
/// a stale id, from before the broker delivered the same envelope again, takes
/// nothing). A copy starts unarmed.
class settle_claim {
public:
  settle_claim() = default;
  settle_claim(const settle_claim&) noexcept {}
  settle_claim& operator=(const settle_claim&) noexcept {
    reset();
    return *this;
  }
  void arm(std::uint64_t id) noexcept { v_.store(id); }
  /// True for the first caller with the armed id only.
  bool take(std::uint64_t id) noexcept { return v_.compare_exchange_strong(id, taken); }
  void reset() noexcept { v_.store(taken, std::memory_order_relaxed); }

private:
  static constexpr std::uint64_t taken = ~std::uint64_t{0};
  std::atomic<std::uint64_t> v_{taken};
};
}  // namespace detail

struct envelope {
  std::string channel;         ///< concrete address it arrived on
  std::string body;            ///< raw payload bytes
  brook::headers headers;      ///< all headers, including the well-known ones
  std::string correlation_id;  ///< from the header or the broker property
  std::string reply_to;        ///< where a reply goes, empty when none
  std::string message_id;      ///< broker or header message id (generated when absent)
  std::string content_type;    ///< may be empty
  /// Native metadata, e.g. `stream_id`, `offset`, `partition`, `pattern`.
  std::map<std::string, std::string> metadata;
  std::shared_ptr<acknowledger> ack;  ///< null when the broker has no acks
  delivery_info delivery;             ///< attempt, redelivered, partition/offset, broker id
  /// Set by the core, never by a driver: the messages of a batch delivery
  /// (`subscriber_builder::batch`), in the order they arrived. This envelope is
  /// then their union: `body` a JSON array of their bodies, `ack` settles every one.
  std::vector<std::shared_ptr<envelope>> batch;
  /// Set by the core, never by a driver (see `detail::settle_claim`).
  detail::settle_claim claim;
};

using envelope_ptr = std::shared_ptr<envelope>;

/// One outbound message.
struct outgoing {
  std::string channel;
  std::string body;
  brook::headers headers;  ///< user headers; applied last
  std::string correlation_id;
  std::string reply_to;
  std::string content_type;
  std::string message_id;
  /// The driver's typed publish target (`brook::redis::stream_out{.maxlen = 1000}`);
  /// empty = the transport's default kind (what replies always use).
  driver_spec driver;
};

/// What to subscribe to. `address`, `pattern` and `group` are the words every
/// broker shares (the core may prefix `address`); `driver` is the driver's own
/// typed declaration (`brook::redis::stream`, ...), empty for its default kind.
/// @code
/// auto s = brook::subscription_spec::of(brook::redis::stream{.name = "orders", .group =
/// "billing"});
/// // s.address == "orders", s.group == "billing", s.driver.get<brook::redis::stream>() != nullptr
/// @endcode
struct subscription_spec {
  std::string address;   ///< exact name, or a pattern when `pattern` is set
  bool pattern = false;  ///< `*`/`>`-style wildcards (driver-specific syntax)
  std::string group;     ///< consumer group / queue group; empty = fan-out
  driver_spec driver;    ///< read by the driver with `driver.get<T>()`

  /// The spec of a typed declaration: `address` from its `name`, and `pattern`
  /// and `group` from members of those names when it has them (`group` from
  /// `queue` where that is the broker's word).
  template <spec_type T>
  static subscription_spec of(T typed) {
    subscription_spec s;
    if constexpr (requires { typed.name; })
      s.address = typed.name;
    if constexpr (requires { typed.pattern; })
      s.pattern = typed.pattern;
    if constexpr (requires { typed.group; })
      s.group = typed.group;
    else if constexpr (requires { typed.queue; })
      s.group = typed.queue;  // NATS calls its groups queues
    s.driver = std::move(typed);
    return s;
  }
};

/// Where a driver hands deliveries. Implemented by the core.
/// @warning Called from driver threads; implementations are thread-safe.
class delivery_sink {
public:
  virtual ~delivery_sink() = default;
  virtual void deliver(envelope_ptr env) = 0;
  /// The subscription failed and will not deliver any more (fatal driver error).
  virtual void failed(error_info err) = 0;
  /// The broker confirmed the subscription (SUBSCRIBE acknowledged, the first
  /// read issued): a message published from now on reaches it. Drivers whose
  /// `subscription::reports_ready()` is true call it, once per (re)connect.
  virtual void subscribed() {}
  /// Messages may have been missed and cannot be counted: the connection of a
  /// subscription that keeps nothing was down (pub/sub), or a pop's reply was
  /// lost with it. Once per incident, with what happened; the core counts and
  /// logs it (`subscriber_snapshot::gaps`).
  virtual void gap(const error_info& why) { (void)why; }
  /// The subscription's connection dropped: nothing arrives until the driver
  /// calls `subscribed()` again after the reconnect (readiness is false meanwhile).
  virtual void interrupted(const error_info& why) { (void)why; }
};

/// A live subscription; destroying it cancels it (undelivered messages stay
/// with the broker, or are counted as dropped when the broker cannot keep them).
class subscription {
public:
  virtual ~subscription() = default;
  /// Grants `n` more deliveries (credit). Thread-safe.
  virtual void request(std::size_t n) = 0;
  /// What this subscription can do (fixed for its lifetime).
  virtual brook::capabilities capabilities() const noexcept { return {}; }
  /// Stops taking messages from the broker: what was not delivered stays there
  /// (or is counted in `dropped()` when the broker cannot keep it). `done` runs
  /// once, on any thread, when no `deliver` can follow. Idempotent; a second
  /// call's `done` also runs. The default suits drivers that deliver only
  /// inside `request` (nothing can be in transit).
  virtual void cancel(std::function<void()> done) {
    if (done)
      done();
  }
  /// Whether the driver calls `delivery_sink::subscribed()`; when false the
  /// subscription counts as live as soon as `subscribe` returns.
  virtual bool reports_ready() const noexcept { return false; }
  /// Messages the driver took from the broker and lost (overflow, a failed
  /// push-back); each is also reported through the driver's log.
  virtual std::size_t dropped() const noexcept { return 0; }
};

/// Called once per publish with `ok` or the failure.
using publish_callback = std::function<void(const error_info&)>;

/// One thing that happened to a transport's connection to its broker.
struct connection_event {
  enum class kind : std::uint8_t {
    connected,  ///< up for the first time: publishes go out
    restored,   ///< up again after `lost` or `stalled`
    lost,       ///< dropped; the driver reconnects by itself (with backoff)
    stalled,    ///< the broker kept the socket open but stopped answering within the
                ///< driver's deadline; the driver drops the connection and reconnects
    fatal,      ///< the driver cannot go on by itself; the core restarts the transport
                ///< (`transport::restart`) under its restart policy, or escalates
  };
  kind what = kind::connected;
  error_info why;  ///< what happened (empty for connected/restored)
};

/// `connected`, `restored`, `lost`, `stalled`, `fatal`.
std::string_view to_string(connection_event::kind k) noexcept;

/// Where a transport reports its connection's life: the core's connection actor,
/// which logs it, counts it and turns it into readiness.
/// @warning Called from driver threads; implementations are thread-safe.
class connection_observer {
public:
  virtual ~connection_observer() = default;
  virtual void on_event(connection_event e) = 0;
};

/// A broker connection as the core sees it.
class transport {
public:
  virtual ~transport() = default;
  /// `memory`, `redis`, `nats`, `kafka`, `amqp`.
  virtual std::string_view protocol() const noexcept = 0;
  /// URL without credentials, for docs and logs.
  virtual std::string url() const { return std::string{protocol()} + "://"; }
  /// Connects (may return before the connection is up; drivers reconnect).
  virtual error_info start() { return {}; }
  virtual std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                                  std::shared_ptr<delivery_sink> sink) = 0;
  /// The error `subscribe(spec)` would fail with (another driver's declaration,
  /// contradicting members, a bad value), without subscribing or connecting. The test broker checks
  /// declarations with the real driver's rules through it.
  virtual error_info validate(const subscription_spec& spec) const {
    (void)spec;
    return {};
  }
  virtual void publish(outgoing msg, publish_callback done) = 0;
  /// Whether publishes go out now (the connection is up); while false they wait
  /// or fail as the driver documents. Part of the app's readiness.
  virtual bool connected() const { return true; }
  /// Opens the reply route for requests made through this transport and
  /// returns the address to put in `reply_to`. Replies go to `sink`.
  virtual std::string open_replies(std::shared_ptr<delivery_sink> sink) = 0;
  /// Stops delivering and closes the connection. Idempotent.
  virtual void close() = 0;
  /// After a `fatal` event: drops every connection and connects afresh; the
  /// subscriptions resume as after a reconnect. The default cannot, and says so
  /// (the core then escalates).
  virtual error_info restart() {
    return {errc::unsupported,
            std::string{protocol()} + ": this driver cannot restart its connection"};
  }

  /// The transport this one stands in front of (the test broker's recorder forwards to
  /// the driver, or to the driver's emulation): a broker's own calls beyond publish and
  /// subscribe (`kafka::broker::seek`, `nats::key_value`) find their driver through it.
  /// Itself by default.
  virtual transport& underlying() noexcept { return *this; }
  /// What the test broker runs in place of this transport (unless `with_real`): given the
  /// in-memory transport, which carries this driver's typed specs with their semantics,
  /// the default runs it as is. A driver whose broker offers calls beyond publish and
  /// subscribe wraps it to emulate them (a Kafka seek, a NATS key-value bucket).
  virtual std::shared_ptr<transport> emulate(std::shared_ptr<transport> memory) const {
    return memory;
  }

  /// The core's observer; set before `start()`, so a driver thread started there
  /// sees it. Drivers report through `report()`.
  void observe(std::shared_ptr<connection_observer> o) { observer_ = std::move(o); }

protected:
  /// Tells the core (a no-op without an observer, e.g. a transport used directly).
  void report(connection_event::kind what, error_info why = {}) const {
    if (observer_)
      observer_->on_event({what, std::move(why)});
  }
  /// The observer itself, for driver parts that may outlive the transport object.
  std::shared_ptr<connection_observer> observer() const { return observer_; }

private:
  std::shared_ptr<connection_observer> observer_;
};

}  // namespace brook
