#pragma once
// BROOK_BENCH_METRICS=1 runs a brook bench with Prometheus metrics on (impl "brook_metrics"),
// BROOK_BENCH_TRACING=1 with metrics and tracing on (impl "brook_traced"), so scripts/bench.sh
// measures telemetry's cost against the same bench without it. The traced run encodes every
// span batch as OTLP/HTTP JSON on the exporter thread (the default exporter's CPU) and drops
// it there, so a collector's speed is not what is measured.
#include <atomic>
#include <brook/app.hpp>
#include <brook/telemetry/metrics.hpp>
#include <brook/telemetry/tracing.hpp>
#include <cstdlib>
#include <string>

namespace bench {

inline bool env_on(const char* name) {
  auto* v = std::getenv(name);
  return v && std::string{v} == "1";
}
inline bool tracing_on() {
  static const bool on = env_on("BROOK_BENCH_TRACING");
  return on;
}
inline bool metrics_on() {
  static const bool on = env_on("BROOK_BENCH_METRICS") || tracing_on();
  return on;
}

/// "brook", "brook_metrics" with metrics on, "brook_traced" with metrics and tracing on.
inline const char* brook_impl() {
  return tracing_on() ? "brook_traced" : metrics_on() ? "brook_metrics" : "brook";
}

/// Gives `app` the observers asked for; metrics are scraped once at the end and the spans
/// must have been encoded, so the work is real.
class observed {
public:
  explicit observed(brook::app& app) {
    if (metrics_on())
      app.observe(metrics_.observer());
    if (tracing_on())
      app.observe(tracing_.observer());
  }
  ~observed() {
    if (metrics_on() && metrics_.text().empty())
      std::abort();
    if (tracing_on() && (!tracing_.flush() || encoded_->load() == 0))
      std::abort();
  }

private:
  brook::telemetry::metrics metrics_;
  std::shared_ptr<std::atomic<std::size_t>> encoded_ =
      std::make_shared<std::atomic<std::size_t>>(0);
  brook::telemetry::tracing tracing_{
      {.max_queue = 1 << 16,
       .exporter = [n = encoded_](const std::vector<brook::telemetry::span_data>& batch,
                                  const std::string& service) {
         *n += brook::telemetry::tracing::otlp_json(batch, service).size();
         return true;
       }}};
};

}  // namespace bench
