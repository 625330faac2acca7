#pragma once
/// @file
/// A circuit breaker for every subscriber the middleware wraps, together.
///
/// After `failures` failed runs in a row (a handler error, a timeout, a result
/// that could not be published; not a body that did not decode), the circuit
/// opens: messages are held, with their credit, for `open_for`, so a service
/// whose database is down stops taking work from its broker instead of failing
/// it all into the dead-letter queue. Then one message runs as a probe: success
/// closes the circuit, failure opens it again. Nothing is dropped while it is
/// open; what the subscriber holds is drained like any in-flight message.
///
/// @code
/// auto db = std::make_shared<brook::middleware::circuit_breaker>(5, std::chrono::seconds{30});
/// broker.subscriber("orders").middleware(db).handle(store_order);
/// if (db->state() == brook::middleware::circuit_breaker::status::open) { /* alert */ }
/// @endcode
#include <atomic>
#include <brook/middleware.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace brook::middleware {

class circuit_breaker final : public shared {
public:
  enum class status : std::uint8_t { closed, open, half_open };
  /// Throws std::invalid_argument unless `failures` >= 1 and `open_for` > 0.
  explicit circuit_breaker(std::size_t failures = 5,
                           std::chrono::milliseconds open_for = std::chrono::seconds{30});
  admission admit(const admission_query& q) override;
  void settled(const admission_query& q, run_outcome how) override;
  /// The current state (readable from any thread).
  status state() const noexcept { return state_.load(std::memory_order_relaxed); }
  /// Times it opened.
  std::uint64_t trips() const noexcept { return trips_.load(std::memory_order_relaxed); }

private:
  void open(std::chrono::steady_clock::time_point now, std::string_view why);

  std::size_t failures_;
  std::chrono::milliseconds open_for_;
  std::size_t in_a_row_ = 0;
  std::chrono::steady_clock::time_point until_{};
  const admission_query* probe_ = nullptr;  ///< the half-open run, while it runs
  std::atomic<status> state_{status::closed};
  std::atomic<std::uint64_t> trips_{0};
};

}  // namespace brook::middleware
