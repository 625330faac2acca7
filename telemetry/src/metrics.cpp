// FastStream's Prometheus families fed by the core's observer calls, and brook's own
// families read from the app's counters at scrape time.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <brook/app.hpp>
#include <brook/telemetry/metrics.hpp>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace brook::telemetry {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

// FastStream's (16 B .. 16 MiB in powers of 4) and prometheus_client's defaults; +Inf is
// always added by prometheus-cpp.
const std::vector<double> faststream_size_buckets{16,    64,     256,     1024,    4096,    16384,
                                                  65536, 262144, 1048576, 4194304, 16777216};
const std::vector<double> client_duration_buckets{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                  0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

Labels with(Labels base, const std::string& k, std::string_view v) {
  base.emplace(k, std::string{v});
  return base;
}

/// FastStream's nine families.
struct families {
  families(prometheus::Registry& r, const std::string& p)
      : received(prometheus::BuildCounter()
                     .Name(p + "_received_messages_total")
                     .Help("Count of received messages by broker and handler")
                     .Register(r)),
        size(prometheus::BuildHistogram()
                 .Name(p + "_received_messages_size_bytes")
                 .Help("Histogram of received messages size in bytes by broker and handler")
                 .Register(r)),
        in_process(prometheus::BuildGauge()
                       .Name(p + "_received_messages_in_process")
                       .Help("Gauge of received messages in process by broker and handler")
                       .Register(r)),
        processed(prometheus::BuildCounter()
                      .Name(p + "_received_processed_messages_total")
                      .Help("Count of received processed messages by broker, handler and status")
                      .Register(r)),
        duration(prometheus::BuildHistogram()
                     .Name(p + "_received_processed_messages_duration_seconds")
                     .Help("Histogram of received processed messages duration in seconds by "
                           "broker and handler")
                     .Register(r)),
        exceptions(prometheus::BuildCounter()
                       .Name(p + "_received_processed_messages_exceptions_total")
                       .Help("Count of received processed messages exceptions by broker, handler "
                             "and exception_type")
                       .Register(r)),
        published(prometheus::BuildCounter()
                      .Name(p + "_published_messages_total")
                      .Help("Count of published messages by destination and status")
                      .Register(r)),
        published_duration(prometheus::BuildHistogram()
                               .Name(p + "_published_messages_duration_seconds")
                               .Help("Histogram of published messages duration in seconds by "
                                     "broker and destination")
                               .Register(r)),
        published_exceptions(prometheus::BuildCounter()
                                 .Name(p + "_published_messages_exceptions_total")
                                 .Help("Count of published messages exceptions by broker, "
                                       "destination and exception_type")
                                 .Register(r)) {}
  Family<Counter>& received;
  Family<Histogram>& size;
  Family<Gauge>& in_process;
  Family<Counter>& processed;
  Family<Histogram>& duration;
  Family<Counter>& exceptions;
  Family<Counter>& published;
  Family<Histogram>& published_duration;
  Family<Counter>& published_exceptions;
};

/// Counters by exception type, made on first use (failures are the rare path).
class by_type {
public:
  by_type(Family<Counter>& f, Labels base) : family_(f), base_(std::move(base)) {}
  void increment(std::string_view type) {
    std::lock_guard lock{mtx_};
    auto i = counters_.find(std::string{type});
    if (i == counters_.end())
      i = counters_.emplace(std::string{type}, &family_.Add(with(base_, "exception_type", type)))
              .first;
    i->second->Increment();
  }

private:
  Family<Counter>& family_;
  Labels base_;
  std::mutex mtx_;
  std::unordered_map<std::string, Counter*> counters_;
};

class probe final : public subscription_probe {
public:
  probe(std::shared_ptr<prometheus::Registry> keep, families& f, const Labels& base,
        const std::vector<double>& size_buckets, const std::vector<double>& duration_buckets)
      : keep_(std::move(keep)),
        received_(f.received.Add(base)),
        size_(f.size.Add(base, size_buckets)),
        in_process_(f.in_process.Add(base)),
        duration_(f.duration.Add(base, duration_buckets)),
        exceptions_(f.exceptions, base) {
    for (auto s : {processing_status::acked, processing_status::nacked, processing_status::rejected,
                   processing_status::skipped, processing_status::error})
      processed_[static_cast<std::size_t>(s)] =
          &f.processed.Add(with(base, "status", to_string(s)));
  }
  void received(std::size_t bytes, std::uint64_t count) noexcept override {
    received_.Increment(static_cast<double>(count));
    size_.Observe(static_cast<double>(bytes));
    in_process_.Increment(static_cast<double>(count));
  }
  void processed(processing_status status, std::chrono::nanoseconds took,
                 std::uint64_t count) noexcept override {
    processed_[static_cast<std::size_t>(status)]->Increment(static_cast<double>(count));
    duration_.Observe(seconds(took));
    in_process_.Decrement(static_cast<double>(count));
  }
  void failed(std::string_view exception_type) noexcept override {
    try {
      exceptions_.increment(exception_type);
    } catch (...) {  // a failed allocation loses one count, never the message
    }
  }

private:
  std::shared_ptr<prometheus::Registry> keep_;
  Counter& received_;
  Histogram& size_;
  Gauge& in_process_;
  std::array<Counter*, 5> processed_{};
  Histogram& duration_;
  by_type exceptions_;
};

/// One publish destination's series.
struct destination {
  Counter* success;
  Counter* error;
  Histogram* duration;
  std::unique_ptr<by_type> exceptions;
};

/// A family built by hand from a snapshot (the `brook_*` ones).
struct snapshot_family {
  prometheus::MetricFamily f;
  snapshot_family(std::string name, std::string help, prometheus::MetricType type) {
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
  }
  void add(const Labels& labels, double v) {
    prometheus::ClientMetric m;
    for (auto& [k, val] : labels)
      m.label.push_back({k, val});
    if (f.type == prometheus::MetricType::Counter)
      m.counter.value = v;
    else
      m.gauge.value = v;
    f.metric.push_back(std::move(m));
  }
};

}  // namespace

struct metrics::impl final : brook::observer, std::enable_shared_from_this<impl> {
  explicit impl(metrics_options o)
      : opts(std::move(o)),
        registry(std::make_shared<prometheus::Registry>()),
        fam(*registry, opts.prefix) {
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
    return std::make_shared<probe>(registry, fam, base(s.broker, "handler", s.handler, s.labels),
                                   opts.size_buckets, opts.duration_buckets);
  }

  destination& destination_for(std::string_view broker, std::string_view to) {
    thread_local std::string key;
    key.assign(broker);
    key += '\n';
    key += to;
    {
      std::shared_lock lock{dest_mtx};
      if (auto i = destinations.find(key); i != destinations.end())
        return i->second;
    }
    std::unique_lock lock{dest_mtx};
    if (auto i = destinations.find(key); i != destinations.end())
      return i->second;
    auto l = base(broker, "destination", to, {});
    destination d{&fam.published.Add(with(l, "status", "success")),
                  &fam.published.Add(with(l, "status", "error")),
                  &fam.published_duration.Add(l, opts.duration_buckets),
                  std::make_unique<by_type>(fam.published_exceptions, l)};
    return destinations.emplace(key, std::move(d)).first->second;
  }

  void published(std::string_view broker, std::string_view to, std::uint64_t count,
                 std::chrono::nanoseconds took, std::string_view error_type) noexcept override {
    try {
      auto& d = destination_for(broker, to);
      d.duration->Observe(seconds(took));
      (error_type.empty() ? d.success : d.error)->Increment(static_cast<double>(count));
      if (!error_type.empty())
        d.exceptions->increment(error_type);
    } catch (...) {  // a failed allocation loses one count, never the publish
    }
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
    auto all = registry->Collect();
    if (opts.brook_families) {
      auto more = brook_families();
      all.insert(all.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
    return prometheus::TextSerializer{}.Serialize(all);
  }

  metrics_options opts;
  std::shared_ptr<prometheus::Registry> registry;
  families fam;
  std::string app_name;  ///< fixed at the first start
  std::shared_mutex dest_mtx;
  std::unordered_map<std::string, destination> destinations;
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
