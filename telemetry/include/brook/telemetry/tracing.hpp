#pragma once
/// @file
/// OpenTelemetry tracing for a brook service, the way Python FastStream's `TelemetryMiddleware`
/// does it, so one trace crosses FastStream and brook services in both directions:
/// W3C `traceparent`/`tracestate` and `baggage` in the message headers on every broker,
/// FastStream's span names and messaging attributes, spans exported over OTLP/HTTP (JSON) to
/// an OpenTelemetry Collector.
///
/// @code
/// #include <brook/telemetry/tracing.hpp>
/// brook::telemetry::tracing tracing{{.service_name = "greeter"}};  // OTLP to 127.0.0.1:4318
/// app.observe(tracing.observer());
/// return app.run(argc, argv);
/// @endcode
///
/// Spans, as FastStream names them (`<destination>` is the channel, subject or topic):
///
/// | span                        | kind     | when |
/// |-----------------------------|----------|-------------------------------------------------------|
/// | `<destination> create`      | consumer | a delivery came without `traceparent` (its root), or
/// a batch (with one link per member's trace) | | `<destination> process`     | consumer |
/// reception to settlement of one delivery (or batch)    | | `<destination> create`      | producer
/// | a publish; its context is what `traceparent` carries  | | `<destination> publish`     |
/// producer | the publish call to the broker's confirmation         |
///
/// A publish made while a handler runs (its results, dead letters, retries, publisher calls,
/// also after a `co_await` in a coroutine handler) is the child of that delivery's `process`
/// span and carries its `tracestate` and `baggage`. Attributes: `messaging.system`,
/// `messaging.operation`, `messaging.message.id`, `messaging.message.conversation_id`,
/// `messaging.message.payload_size_bytes`, `messaging.destination_publish.name` (consume),
/// `messaging.destination.name` (publish), `messaging.batch.message_count`; a failed handler
/// sets the span's status to error with an `exception` event naming the exception's type.
/// @warning One `tracing` may observe several apps; spans wait in a bounded queue and are
/// exported by one background thread: when the collector cannot keep up they are dropped and
/// counted (`stats().dropped`), never blocking a handler.
#include <brook/observer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace brook::telemetry {

/// One attribute: `{"messaging.system", std::string{"redis"}}`. The key is a static string
/// (brook's attribute names are literals: no allocation per span for them).
struct span_attribute {
  std::string_view key;
  std::variant<std::string, std::int64_t, bool> value;
};

/// A finished span, as exported.
struct span_data {
  enum class kind : std::uint8_t { producer = 4, consumer = 5 };  ///< OTLP's numbers
  struct link {
    std::string trace_id, span_id;  ///< lowercase hex
    std::vector<span_attribute> attributes;
  };
  struct event {
    std::string name;
    std::uint64_t time_unix_nano = 0;
    std::vector<span_attribute> attributes;
  };
  std::string trace_id;        ///< 32 lowercase hex digits
  std::string span_id;         ///< 16 lowercase hex digits
  std::string parent_span_id;  ///< empty for a root span
  std::string trace_state;     ///< W3C `tracestate`, passed on from the parent
  std::string name;
  kind span_kind = kind::consumer;
  std::uint64_t start_unix_nano = 0, end_unix_nano = 0;
  std::vector<span_attribute> attributes;
  std::vector<link> links;
  std::vector<event> events;
  bool error = false;          ///< OTLP status code 2 (error) instead of unset
  std::string status_message;  ///< the error's description

  /// The attribute `key`, or null.
  const span_attribute* attribute(std::string_view key) const noexcept;
};

/// Where finished spans go, a batch at a time, on the exporter thread. Returns false when the
/// batch was not accepted (counted in `stats().export_failures`).
using span_exporter =
    std::function<bool(const std::vector<span_data>& batch, const std::string& service_name)>;

/// | option           | default                                   | meaning                       |
/// |------------------|-------------------------------------------|-------------------------------|
/// | `service_name`   | the app's title                           | the `service.name` resource   |
/// | `endpoint`       | `$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `$OTEL_EXPORTER_OTLP_ENDPOINT`
/// + `/v1/traces`, else `http://127.0.0.1:4318/v1/traces` | OTLP/HTTP traces URL (`http://` only) |
/// | `sample_ratio`   | 1.0                                       | share of new traces recorded; a
/// delivery follows its parent's sampled flag | | `max_queue`      | 8192 | finished spans waiting;
/// beyond it they are dropped and counted | | `max_batch`      | 512 | spans per export | |
/// `flush_interval` | 200 ms                                    | the longest a span waits      |
/// | `export_timeout` | 5 s                                       | one export request's bound    |
/// | `exporter`       | OTLP/HTTP JSON to `endpoint`              | anything else (a test's
/// capture) |
struct tracing_options {
  std::string service_name;
  std::string endpoint;
  double sample_ratio = 1.0;
  std::size_t max_queue = 8192;
  std::size_t max_batch = 512;
  std::chrono::milliseconds flush_interval{200};
  std::chrono::milliseconds export_timeout{5000};
  span_exporter exporter;
};

/// What the tracer did so far.
struct tracing_stats {
  std::uint64_t spans = 0;            ///< finished and recorded (sampled)
  std::uint64_t exported = 0;         ///< accepted by the exporter
  std::uint64_t dropped = 0;          ///< not exported: the queue was full
  std::uint64_t export_failures = 0;  ///< batches the exporter refused (their spans are lost)
};

/// The tracer of one service: give `observer()` to `app::observe`. Copies share it; the last
/// copy to go exports what is queued (bounded by `export_timeout`).
class tracing {
public:
  explicit tracing(tracing_options o = {});

  /// What `app::observe` takes. The app's stop exports what is queued.
  observer_ptr observer() const;
  /// Exports every span finished so far; false when `timeout` passed first.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds{5}) const;
  tracing_stats stats() const;
  /// The OTLP/HTTP JSON (`ExportTraceServiceRequest`) the default exporter posts.
  static std::string otlp_json(const std::vector<span_data>& batch,
                               const std::string& service_name);

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

/// W3C trace context: `00-<trace id>-<span id>-<flags>`; parsing yields nothing for an
/// invalid header (a delivery with one starts a new trace, as FastStream's does).
struct trace_parent {
  std::string trace_id, span_id;  ///< lowercase hex
  bool sampled = true;
  static std::optional<trace_parent> parse(std::string_view header) noexcept;
  std::string to_header() const;
};

}  // namespace brook::telemetry
