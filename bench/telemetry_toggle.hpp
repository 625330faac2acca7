#pragma once
// BROOK_BENCH_METRICS=1 runs a brook bench with Prometheus metrics on (impl "brook_metrics"),
// so scripts/bench.sh measures telemetry's cost against the same bench without it.
#include <brook/app.hpp>
#include <brook/telemetry/metrics.hpp>
#include <cstdlib>
#include <string>

namespace bench {

inline bool metrics_on() {
  static const bool on = [] {
    auto* v = std::getenv("BROOK_BENCH_METRICS");
    return v && std::string{v} == "1";
  }();
  return on;
}

/// "brook", or "brook_metrics" with metrics on.
inline const char* brook_impl() {
  return metrics_on() ? "brook_metrics" : "brook";
}

/// Gives `app` a metrics observer when asked for; scraped once at the end so the work is real.
class observed {
public:
  explicit observed(brook::app& app) {
    if (metrics_on())
      app.observe(metrics_.observer());
  }
  ~observed() {
    if (metrics_on() && metrics_.text().empty())
      std::abort();
  }

private:
  brook::telemetry::metrics metrics_;
};

}  // namespace bench
