#pragma once
/// @file
/// `brook::observer`: the one interface through which the core's actors report what they do
/// to telemetry (metrics, tracing). The core calls it; `brook::telemetry` implements it
/// (Prometheus metrics with FastStream's names), and so can a user.
///
/// @code
/// brook::telemetry::metrics metrics{{.app_name = "greeter"}};   // <brook/telemetry/metrics.hpp>
/// app.observe(metrics.observer());                               // before app.run / start
/// // `svc run --http-port 9000` then serves it on /metrics
/// @endcode
///
/// Tracing rides on the same probes: `subscription_probe::trace` opens a delivery's span,
/// `publish_probe::trace` a publish's, adding the propagation headers (`traceparent`, ...)
/// to the message (`brook::telemetry::tracing` does this the way FastStream does).
///
/// @warning Probes are called from handler actors and driver threads at once, on the message
/// path: implementations must be thread-safe, must not block and must not throw.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook {

class app;
struct envelope;
struct outgoing;

/// How a received message ended, with FastStream's Prometheus status names.
enum class processing_status : std::uint8_t {
  acked,     ///< settled with an ack (processed, or acked by policy or by the handler)
  nacked,    ///< handed back to the broker
  rejected,  ///< rejected (a decode error, a refusal, `reject_message`)
  skipped,   ///< acked without running the handler (a shared middleware said skip)
  error,     ///< the handler failed (its exception is counted by type too)
};
std::string_view to_string(processing_status s) noexcept;

/// Extra labels: `{{"team", "payments"}}`.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// One subscription as telemetry names it.
struct subscription_info {
  std::string_view broker;      ///< the transport's protocol: `redis`, `nats`, `kafka`, `memory`
  std::string_view handler;     ///< the subscriber's address (FastStream's `handler` label)
  const metric_labels& labels;  ///< the subscriber's own labels (`subscriber_builder::labels`)
};

/// Tracing's record of one delivery, from reception to settlement (FastStream's
/// `<destination> process` span). The core keeps it with the delivery and makes it the
/// parent of every publish its handler makes (results, dead letters, direct publishes,
/// also from a coroutine handler after a `co_await`).
class delivery_trace {
public:
  virtual ~delivery_trace() = default;
  /// The delivery settled: how, and the handler's exception type when it failed (else empty).
  virtual void end(processing_status status, std::string_view exception_type) noexcept = 0;
  /// The trace id as 32 lowercase hex digits (for logs), sampled or not.
  virtual std::string_view trace_id() const noexcept = 0;
};
using delivery_trace_ptr = std::shared_ptr<delivery_trace>;

/// Tracing's record of one publish (FastStream's `<destination> publish` span).
class publish_trace {
public:
  virtual ~publish_trace() = default;
  /// The broker confirmed (`error_type` empty) or the publish failed.
  virtual void end(std::string_view error_type) noexcept = 0;
};
using publish_trace_ptr = std::shared_ptr<publish_trace>;

/// The delivery whose handler runs on this thread (or resumes here); null elsewhere.
/// The core sets it; a publish made now is that delivery's child.
delivery_trace* current_delivery_trace() noexcept;

/// The probe of one subscription. The core asks for it once per subscriber and keeps it.
class subscription_probe {
public:
  virtual ~subscription_probe() = default;
  /// A delivery reached a handler actor: `count` messages (a batch) of `bytes` in total.
  virtual void received(std::size_t bytes, std::uint64_t count) noexcept = 0;
  /// The messages of one `received` finished: how, and how long from reception to settlement.
  virtual void processed(processing_status status, std::chrono::nanoseconds took,
                         std::uint64_t count) noexcept = 0;
  /// One handler run failed with an exception of type `exception_type` (not counted for the
  /// control exceptions `ack_message`, `nack_message`, `reject_message`).
  virtual void failed(std::string_view exception_type) noexcept = 0;
  /// A delivery is about to be handled: open its span (read `traceparent`, `baggage`, ...
  /// from `e.headers`; a batch delivery has its members in `e.batch`). Null: not traced.
  virtual delivery_trace_ptr trace(const envelope& e) noexcept {
    (void)e;
    return nullptr;
  }
};

/// The probe of one publish destination.
class publish_probe {
public:
  virtual ~publish_probe() = default;
  /// `count` messages were published, taking `took` from the publish call to the broker's
  /// confirmation; `error_type` is empty on success, else the failure's `errc` name.
  virtual void published(std::uint64_t count, std::chrono::nanoseconds took,
                         std::string_view error_type) noexcept = 0;
  /// `m` is about to be handed to the broker: open its span and add the propagation
  /// headers to `m.headers`. `parent` is the delivery being handled (null outside one).
  /// Null: not traced.
  virtual publish_trace_ptr trace(outgoing& m, delivery_trace* parent) noexcept {
    (void)m, (void)parent;
    return nullptr;
  }
};

/// Receives the core's events. The default implementations ignore them.
class observer {
public:
  virtual ~observer() = default;
  /// Called once per subscriber when it starts; the core keeps the probe for the run.
  /// Null means "not observed".
  virtual std::shared_ptr<subscription_probe> subscription(const subscription_info&) {
    return nullptr;
  }
  /// The probe of publishes to `destination` on `broker` (a handler's results, dead letters,
  /// retries and direct publishes; replies to `reply_to` are not reported, as in FastStream).
  /// Called per publish: make it a cheap lookup. The pointer must stay valid for the
  /// observer's lifetime. Null means "not observed".
  virtual publish_probe* destination(std::string_view broker, std::string_view destination) {
    (void)broker, (void)destination;
    return nullptr;
  }
  /// The app is starting (before its brokers: `subscription` calls follow); its `stats()` and
  /// `connections()` may be read from now until `stopped` returns, which is called after the
  /// drain and before the runtime goes (read the final counters there).
  virtual void started(const app&) {}
  virtual void stopped(const app&) {}
  /// The Prometheus text exposition the app's `/metrics` serves; empty: this observer has none.
  virtual std::string exposition() { return {}; }
};

using observer_ptr = std::shared_ptr<observer>;

}  // namespace brook
