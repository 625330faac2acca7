#pragma once
// Shared helpers of brook's benchmarks: percentiles and the one-line JSON report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;

/// A publish the benchmark depends on failed: say so and stop (a silent loss would skew it).
template <class Error>
void must(const Error& err) {
  if (err) {
    std::fprintf(stderr, "bench: publish failed: %s\n", err.to_string().c_str());
    std::exit(1);
  }
}

/// Nanoseconds on the steady clock: the send time benchmarks put into their messages.
inline long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

/// The environment variable `name` as a number, or `fallback`.
inline long env_or(const char* name, long fallback) {
  auto* v = std::getenv(name);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}

inline double micros(clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

inline double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k), xs.end());
  return xs[k];
}

/// `{"bench":..., "broker":..., "impl":..., "msgs":N, "seconds":S, "msgs_per_s":R, "p50_us":...,
/// "p99_us":...}`
inline void report(const std::string& name, const std::string& broker, const std::string& impl,
                   std::size_t msgs, double seconds, std::vector<double>& lat_us) {
  auto p50 = percentile(lat_us, 0.50);
  auto p99 = percentile(lat_us, 0.99);
  std::printf(
      "{\"bench\":\"%s\",\"broker\":\"%s\",\"impl\":\"%s\",\"msgs\":%zu,\"seconds\":%.4f,"
      "\"msgs_per_s\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
      name.c_str(), broker.c_str(), impl.c_str(), msgs, seconds,
      static_cast<double>(msgs) / seconds, p50, p99);
  std::fflush(stdout);
}

}  // namespace bench
