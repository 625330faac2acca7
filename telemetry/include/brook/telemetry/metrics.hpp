#pragma once
/// @file
/// Prometheus metrics for a brook service, with the names, labels and buckets of Python
/// FastStream's `PrometheusMiddleware`, so a dashboard built for FastStream services (Grafana's
/// FastStream dashboard) shows brook services unchanged; plus `brook_*` families for what
/// FastStream does not measure (connections, credit, drops by reason, dead letters, retries,
/// the publish window).
///
/// @code
/// #include <brook/telemetry/metrics.hpp>
/// brook::telemetry::metrics metrics{{.app_name = "greeter"}};
/// app.observe(metrics.observer());
/// return app.run(argc, argv);   // `svc run --http-port 9000` serves GET /metrics
/// @endcode
///
/// FastStream's families (prefix `faststream`, labels `app_name`, `broker` and `handler` or
/// `destination`, then the custom labels):
///
/// | family                                                    | type      | extra label      |
/// |-----------------------------------------------------------|-----------|------------------|
/// | `faststream_received_messages_total`                      | counter   |                  |
/// | `faststream_received_messages_size_bytes`                 | histogram |                  |
/// | `faststream_received_messages_in_process`                 | gauge     |                  |
/// | `faststream_received_processed_messages_total`            | counter   | `status`         |
/// | `faststream_received_processed_messages_duration_seconds` | histogram |                  |
/// | `faststream_received_processed_messages_exceptions_total` | counter   | `exception_type` |
/// | `faststream_published_messages_total`                     | counter   | `status`         |
/// | `faststream_published_messages_duration_seconds`          | histogram |                  |
/// | `faststream_published_messages_exceptions_total`          | counter   | `exception_type` |
///
/// `status` is `acked`, `nacked`, `rejected`, `skipped` or `error` for received messages and
/// `success` or `error` for publishes. `handler` is the subscriber's address as declared (a
/// pattern stays a pattern, which bounds the series), `broker` the transport's protocol
/// (`redis`, `nats`, `kafka`, `memory`). Read at scrape time from the app's counters:
///
/// | family                                   | type    | labels (beside `app_name`)          |
/// |------------------------------------------|---------|-------------------------------------|
/// | `brook_connection_up`                    | gauge   | `broker`, `url`                     |
/// | `brook_connection_events_total`          | counter | `broker`, `url`, `event`            |
/// | `brook_publish_window_in_use`            | gauge   | `broker`, `url`                     |
/// | `brook_publish_window_size`              | gauge   | `broker`, `url`                     |
/// | `brook_publish_window_waits_total`       | counter | `broker`, `url`                     |
/// | `brook_subscriber_ready`                 | gauge   | `broker`, `handler`                 |
/// | `brook_subscriber_in_flight`             | gauge   | `broker`, `handler` (credit in use) |
/// | `brook_subscriber_held`                  | gauge   | `broker`, `handler`                 |
/// | `brook_messages_dropped_total`           | counter | `broker`, `handler`, `reason`       |
/// | `brook_messages_dead_lettered_total`     | counter | `broker`, `handler`                 |
/// | `brook_messages_retried_total`           | counter | `broker`, `handler`                 |
/// | `brook_messages_decode_errors_total`     | counter | `broker`, `handler`                 |
/// | `brook_subscriber_restarts_total`        | counter | `broker`, `handler`                 |
/// | `brook_subscriber_gaps_total`            | counter | `broker`, `handler`                 |
///
/// `event` is `connect`, `loss`, `stall`, `fatal` or `restart`; a connection's URL never carries
/// credentials. Custom labels: `metrics_options::labels` on every family, and
/// `subscriber_builder::labels` on one subscriber's.
/// @warning One `metrics` observes one app at a time.
#include <brook/observer.hpp>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
}

namespace brook::telemetry {

/// | option             | default                 | meaning                                      |
/// |--------------------|-------------------------|----------------------------------------------|
/// | `app_name`         | the app's title         | the `app_name` label                          |
/// | `prefix`           | `faststream`            | the prefix of FastStream's families           |
/// | `size_buckets`     | 16 B .. 16 MiB, +Inf    | `..._received_messages_size_bytes`
/// (FastStream's) | | `duration_buckets` | 5 ms .. 10 s            | both duration histograms
/// (prometheus_client's) | | `labels`           | none                    | static labels on every
/// family                 | | `brook_families`   | true                    | the `brook_*` families
/// |
struct metrics_options {
  std::string app_name;
  std::string prefix = "faststream";
  std::vector<double> size_buckets;
  std::vector<double> duration_buckets;
  metric_labels labels;
  bool brook_families = true;
};

/// The metrics of one app: give `observer()` to `app::observe`, scrape `text()` (the app's
/// `/metrics` does), or register your own metrics in `registry()`. Copies share the metrics.
class metrics {
public:
  explicit metrics(metrics_options o = {});

  /// What `app::observe` takes.
  observer_ptr observer() const;
  /// The Prometheus text exposition (format 0.0.4) of every family, `brook_*` ones included.
  std::string text() const;
  /// prometheus-cpp's registry (include <prometheus/registry.hpp>): add your own families;
  /// they are exposed with these.
  std::shared_ptr<prometheus::Registry> registry() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace brook::telemetry
