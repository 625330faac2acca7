// FastStream's Prometheus families fed by the core's observer calls, and brook's own
// families read from the app's counters at scrape time. On the message path a probe only adds
// to relaxed atomics (prometheus-cpp's histogram takes a mutex per observation); the families
// are built when scraped, and prometheus-cpp serializes them with the registry's own.
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <brook/app.hpp>
#include <brook/telemetry/metrics.hpp>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace brook::telemetry {

namespace {

using Labels = std::map<std::string, std::string>;

// FastStream's (16 B .. 16 MiB in powers of 4) and prometheus_client's defaults; +Inf is
// always added by prometheus-cpp.
const std::vector<double> faststream_size_buckets{16,    64,     256,     1024,    4096,    16384,
                                                  65536, 262144, 1048576, 4194304, 16777216};
const std::vector<double> client_duration_buckets{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                  0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};

Labels with(Labels base, const std::string& k, std::string_view v) {
  base.emplace(k, std::string{v});
  return base;
}

/// A histogram on the message path: relaxed atomic counts per bucket and an integer sum (bytes
/// or nanoseconds), so an observation is two atomic adds and no lock. Read at scrape time.
class fast_histogram {
public:
  /// `bounds` in the exposed unit; `scale` turns an observed integer into that unit.
  fast_histogram(const std::vector<double>& bounds, double scale)
      : exposed_(bounds), counts_(bounds.size() + 1), scale_(scale) {
    bounds_.reserve(bounds.size());
    for (auto b : bounds)
      bounds_.push_back(static_cast<std::uint64_t>(b / scale));
  }
  void observe(std::uint64_t v) noexcept {
    std::size_t k = 0;
    while (k < bounds_.size() && v > bounds_[k])
      ++k;
    counts_[k].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }
  prometheus::ClientMetric::Histogram read() const {
    prometheus::ClientMetric::Histogram h;
    std::uint64_t total = 0;
    for (std::size_t k = 0; k < counts_.size(); ++k) {
      total += counts_[k].load(std::memory_order_relaxed);
      h.bucket.push_back(
          {total, k < exposed_.size() ? exposed_[k] : std::numeric_limits<double>::infinity()});
    }
    h.sample_count = total;
    h.sample_sum = static_cast<double>(sum_.load(std::memory_order_relaxed)) * scale_;
    return h;
  }

private:
  std::vector<double> exposed_;
  std::vector<std::uint64_t> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<std::uint64_t> sum_{0};
  double scale_;
};

/// Counters by exception type, made on first use (failures are the rare path).
class by_type {
public:
  void increment(std::string_view type) {
    std::lock_guard lock{mtx_};
    auto i = counts_.find(type);
    if (i == counts_.end())
      i = counts_.emplace(std::string{type}, 0).first;
    ++i->second;
  }
  std::map<std::string, std::uint64_t, std::less<>> read() const {
    std::lock_guard lock{mtx_};
    return counts_;
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, std::uint64_t, std::less<>> counts_;
};

constexpr double ns = 1e-9;
constexpr std::size_t status_count = 5;

class probe final : public subscription_probe {
public:
  probe(Labels l, const std::vector<double>& size_buckets,
        const std::vector<double>& duration_buckets)
      : labels(std::move(l)), size(size_buckets, 1.0), duration(duration_buckets, ns) {}
  void received(std::size_t bytes, std::uint64_t count) noexcept override {
    received_total.fetch_add(count, std::memory_order_relaxed);
    size.observe(bytes);
  }
  void processed(processing_status status, std::chrono::nanoseconds took,
                 std::uint64_t count) noexcept override {
    by_status[static_cast<std::size_t>(status)].fetch_add(count, std::memory_order_relaxed);
    duration.observe(static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count())));
  }
  void failed(std::string_view exception_type) noexcept override {
    try {
      exceptions.increment(exception_type);
    } catch (...) {  // a failed allocation loses one count, never the message
    }
  }

  const Labels labels;
  std::atomic<std::uint64_t> received_total{0};
  std::array<std::atomic<std::uint64_t>, status_count> by_status{};
  fast_histogram size, duration;
  by_type exceptions;
};

/// One publish destination's series.
class destination final : public publish_probe {
public:
  destination(Labels l, const std::vector<double>& duration_buckets)
      : labels(std::move(l)), duration(duration_buckets, ns) {}
  void published(std::uint64_t count, std::chrono::nanoseconds took,
                 std::string_view error_type) noexcept override {
    duration.observe(static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count())));
    (error_type.empty() ? success : error).fetch_add(count, std::memory_order_relaxed);
    if (!error_type.empty()) {
      try {
        exceptions.increment(error_type);
      } catch (...) {
      }
    }
  }

  const Labels labels;
  std::atomic<std::uint64_t> success{0}, error{0};
  fast_histogram duration;
  by_type exceptions;
};

/// A family built by hand from a snapshot (the `brook_*` ones).
struct snapshot_family {
  prometheus::MetricFamily f;
  snapshot_family(std::string name, std::string help, prometheus::MetricType type) {
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
  }
  static prometheus::ClientMetric metric(const Labels& labels) {
    prometheus::ClientMetric m;
    for (auto& [k, val] : labels)
      m.label.push_back({k, val});
    return m;
  }
  void add(const Labels& labels, double v) {
    auto m = metric(labels);
    if (f.type == prometheus::MetricType::Counter)
      m.counter.value = v;
    else
      m.gauge.value = v;
    f.metric.push_back(std::move(m));
  }
  void add(const Labels& labels, prometheus::ClientMetric::Histogram h) {
    auto m = metric(labels);
    m.histogram = std::move(h);
    f.metric.push_back(std::move(m));
  }
};

}  // namespace

struct metrics::impl final : brook::observer {
  explicit impl(metrics_options o)
      : opts(std::move(o)), registry(std::make_shared<prometheus::Registry>()) {
    if (opts.size_buckets.empty())
      opts.size_buckets = faststream_size_buckets;
    if (opts.duration_buckets.empty())
      opts.duration_buckets = client_duration_buckets;
  }

  Labels base(std::string_view broker, const std::string& what, std::string_view name,
              const metric_labels& extra) const {
    Labels l{{"app_name", app_name}, {"broker", std::string{broker}}, {what, std::string{name}}};
    for (auto& [k, v] : opts.labels)
      l.emplace(k, v);
    for (auto& [k, v] : extra)
      l.emplace(k, v);
    return l;
  }

  std::shared_ptr<subscription_probe> subscription(const subscription_info& s) override {
    auto labels = base(s.broker, "handler", s.handler, s.labels);
    std::lock_guard lock{probes_mtx};
    // The same subscriber in a later start of the app continues its series.
    for (auto& p : probes)
      if (p->labels == labels)
        return p;
    probes.push_back(
        std::make_shared<probe>(std::move(labels), opts.size_buckets, opts.duration_buckets));
    return probes.back();
  }

  publish_probe* destination(std::string_view broker, std::string_view to) override {
    thread_local std::string key;
    key.assign(broker);
    key += '\n';
    key += to;
    {
      std::shared_lock lock{dest_mtx};
      if (auto i = destinations.find(key); i != destinations.end())
        return i->second.get();
    }
    try {
      std::unique_lock lock{dest_mtx};
      auto& d = destinations[key];
      if (!d)
        d = std::make_unique<class destination>(base(broker, "destination", to, {}),
                                                opts.duration_buckets);
      return d.get();
    } catch (...) {
      return nullptr;  // not observed, never a failed publish
    }
  }

  /// FastStream's nine families from the probes.
  std::vector<prometheus::MetricFamily> faststream_families() {
    using prometheus::MetricType;
    const auto& p = opts.prefix;
    snapshot_family received{p + "_received_messages_total",
                             "Count of received messages by broker and handler",
                             MetricType::Counter},
        size{p + "_received_messages_size_bytes",
             "Histogram of received messages size in bytes by broker and handler",
             MetricType::Histogram},
        in_process{p + "_received_messages_in_process",
                   "Gauge of received messages in process by broker and handler",
                   MetricType::Gauge},
        processed{p + "_received_processed_messages_total",
                  "Count of received processed messages by broker, handler and status",
                  MetricType::Counter},
        duration{p + "_received_processed_messages_duration_seconds",
                 "Histogram of received processed messages duration in seconds by broker and "
                 "handler",
                 MetricType::Histogram},
        exceptions{p + "_received_processed_messages_exceptions_total",
                   "Count of received processed messages exceptions by broker, handler and "
                   "exception_type",
                   MetricType::Counter},
        published{p + "_published_messages_total",
                  "Count of published messages by destination and status", MetricType::Counter},
        published_duration{p + "_published_messages_duration_seconds",
                           "Histogram of published messages duration in seconds by broker and "
                           "destination",
                           MetricType::Histogram},
        published_exceptions{p + "_published_messages_exceptions_total",
                             "Count of published messages exceptions by broker, destination "
                             "and exception_type",
                             MetricType::Counter};
    {
      std::lock_guard lock{probes_mtx};
      for (auto& pr : probes) {
        // Statuses first: a message counted as finished is never "in process" below zero.
        std::uint64_t finished = 0;
        for (std::size_t k = 0; k < status_count; ++k) {
          auto n = pr->by_status[k].load(std::memory_order_relaxed);
          finished += n;
          processed.add(with(pr->labels, "status", to_string(static_cast<processing_status>(k))),
                        static_cast<double>(n));
        }
        auto got = pr->received_total.load(std::memory_order_relaxed);
        received.add(pr->labels, static_cast<double>(got));
        in_process.add(pr->labels, static_cast<double>(got > finished ? got - finished : 0));
        size.add(pr->labels, pr->size.read());
        duration.add(pr->labels, pr->duration.read());
        for (auto& [type, n] : pr->exceptions.read())
          exceptions.add(with(pr->labels, "exception_type", type), static_cast<double>(n));
      }
    }
    {
      std::shared_lock lock{dest_mtx};
      for (auto& [key, d] : destinations) {
        published.add(with(d->labels, "status", "success"),
                      static_cast<double>(d->success.load(std::memory_order_relaxed)));
        published.add(with(d->labels, "status", "error"),
                      static_cast<double>(d->error.load(std::memory_order_relaxed)));
        published_duration.add(d->labels, d->duration.read());
        for (auto& [type, n] : d->exceptions.read())
          published_exceptions.add(with(d->labels, "exception_type", type), static_cast<double>(n));
      }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&received, &size, &in_process, &processed, &duration, &exceptions, &published,
                    &published_duration, &published_exceptions})
      out.push_back(std::move(f->f));
    return out;
  }

  void started(const app& a) override {
    std::lock_guard lock{app_mtx};
    if (app_name.empty())
      app_name = opts.app_name.empty() ? a.info().title : opts.app_name;
    current = &a;
  }
  void stopped(const app& a) override {
    std::lock_guard lock{app_mtx};
    last_subscribers = a.stats();
    last_connections = a.connections();
    current = nullptr;
  }

  std::vector<prometheus::MetricFamily> brook_families() {
    using prometheus::MetricType;
    std::lock_guard lock{app_mtx};
    auto subs = current ? current->stats() : last_subscribers;
    auto conns = current ? current->connections() : last_connections;
    snapshot_family up{"brook_connection_up", "1 while the broker connection is up",
                       MetricType::Gauge},
        events{"brook_connection_events_total",
               "Connection events reported by the driver (connect, loss, stall, fatal, restart)",
               MetricType::Counter},
        window_use{"brook_publish_window_in_use", "Publishes handed to the driver, unconfirmed",
                   MetricType::Gauge},
        window_size{"brook_publish_window_size", "The outbound window's size", MetricType::Gauge},
        window_waits{"brook_publish_window_waits_total",
                     "Publishes that found the outbound window full", MetricType::Counter},
        ready{"brook_subscriber_ready", "1 while the broker confirms the subscription",
              MetricType::Gauge},
        in_flight{"brook_subscriber_in_flight",
                  "Messages dispatched to handlers and not settled (credit in use)",
                  MetricType::Gauge},
        held{"brook_subscriber_held", "Messages taken from the broker and not finished",
             MetricType::Gauge},
        dropped{"brook_messages_dropped_total", "Messages lost with a counted reason",
                MetricType::Counter},
        dead{"brook_messages_dead_lettered_total", "Messages sent to the dead-letter publisher",
             MetricType::Counter},
        retried{"brook_messages_retried_total", "Failed messages retried", MetricType::Counter},
        decode{"brook_messages_decode_errors_total", "Bodies that did not decode",
               MetricType::Counter},
        restarts{"brook_subscriber_restarts_total", "Subscriber actor restarts",
                 MetricType::Counter},
        gaps{"brook_subscriber_gaps_total",
             "Incidents in which messages may have been missed (a pub/sub connection down)",
             MetricType::Counter};
    for (auto& c : conns) {
      Labels l{{"app_name", app_name}, {"broker", c.protocol}, {"url", c.url}};
      for (auto& [k, v] : opts.labels)
        l.emplace(k, v);
      up.add(l, c.up ? 1 : 0);
      for (auto [name, n] : {std::pair{"connect", c.connects}, std::pair{"loss", c.losses},
                             std::pair{"stall", c.stalls}, std::pair{"fatal", c.fatals},
                             std::pair{"restart", c.restarts}})
        events.add(with(l, "event", name), static_cast<double>(n));
      window_use.add(l, static_cast<double>(c.publish_in_flight));
      window_size.add(l, static_cast<double>(c.publish_window));
      window_waits.add(l, static_cast<double>(c.publish_waited));
    }
    for (auto& s : subs) {
      auto l = base(s.protocol, "handler", s.address, s.labels);
      ready.add(l, s.subscribed ? 1 : 0);
      in_flight.add(l, static_cast<double>(s.in_flight));
      held.add(l, static_cast<double>(s.held));
      for (auto r : {detail::drop_reason::handler_died, detail::drop_reason::not_redeliverable,
                     detail::drop_reason::stopped, detail::drop_reason::driver}) {
        auto name = detail::to_string(r);
        dropped.add(with(l, "reason", name), static_cast<double>(s.dropped_for(name)));
      }
      dead.add(l, static_cast<double>(s.dead_lettered));
      retried.add(l, static_cast<double>(s.retried));
      decode.add(l, static_cast<double>(s.decode_errors));
      restarts.add(l, static_cast<double>(s.restarts));
      gaps.add(l, static_cast<double>(s.gaps));
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&up, &events, &window_use, &window_size, &window_waits, &ready, &in_flight,
                    &held, &dropped, &dead, &retried, &decode, &restarts, &gaps})
      if (!f->f.metric.empty())
        out.push_back(std::move(f->f));
    return out;
  }

  std::string exposition() override {
    auto all = faststream_families();
    auto own = registry->Collect();
    all.insert(all.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
    if (opts.brook_families) {
      auto more = brook_families();
      all.insert(all.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
    return prometheus::TextSerializer{}.Serialize(all);
  }

  metrics_options opts;
  std::shared_ptr<prometheus::Registry> registry;
  std::string app_name;  ///< fixed at the first start
  std::mutex probes_mtx;
  std::vector<std::shared_ptr<probe>> probes;  ///< every subscription's, across restarts
  std::shared_mutex dest_mtx;
  std::unordered_map<std::string, std::unique_ptr<class destination>> destinations;
  std::mutex app_mtx;
  const app* current = nullptr;
  std::vector<detail::subscriber_snapshot> last_subscribers;
  std::vector<detail::connection_snapshot> last_connections;
};

metrics::metrics(metrics_options o) : impl_(std::make_shared<impl>(std::move(o))) {}

observer_ptr metrics::observer() const {
  return impl_;
}

std::string metrics::text() const {
  return impl_->exposition();
}

std::shared_ptr<prometheus::Registry> metrics::registry() const {
  return impl_->registry;
}

}  // namespace brook::telemetry
