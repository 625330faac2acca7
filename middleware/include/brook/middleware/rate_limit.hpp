#pragma once
/// @file
/// A rate limit for every subscriber the middleware wraps, together.
///
/// Messages start at most `per_second` a second on average, up to `burst` back to
/// back. One that has to wait keeps its credit while it waits, so a limited
/// subscriber takes less from its broker instead of buffering (a Redis stream
/// reads less, a list pops less). Retries count too. It runs as a shared
/// middleware: one actor holds the limit for all the subscribers it wraps.
///
/// @code
/// auto limit = std::make_shared<brook::middleware::rate_limit>(50.0, 10);  // 50/s, bursts of 10
/// broker.subscriber("emails").middleware(limit).handle(send_email);
/// broker.subscriber("sms").middleware(limit).handle(send_sms);        // the same 50/s for both
/// @endcode
#include <brook/middleware.hpp>
#include <chrono>
#include <cstddef>

namespace brook::middleware {

class rate_limit final : public shared {
public:
  /// Throws std::invalid_argument unless `per_second` > 0 and `burst` >= 1.
  explicit rate_limit(double per_second, std::size_t burst = 1);
  admission admit(const admission_query& q) override;

private:
  std::chrono::nanoseconds interval_;             ///< between two messages at the average rate
  std::chrono::nanoseconds tolerance_;            ///< how far ahead a burst may run
  std::chrono::steady_clock::time_point next_{};  ///< when the next message is due
};

}  // namespace brook::middleware
