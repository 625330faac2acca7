#pragma once
/// @file
/// Timing policies shared by the runtime: exponential backoff with jitter,
/// restarts (handler actors and subscribers alike) and message retries.
///
/// @code
/// broker.subscriber("orders")
///       .retry({.max_attempts = 5, .backoff = {.initial = std::chrono::milliseconds{200}}})
///       .dead_letter(broker.publisher("orders.dlq"))
///       .restarts({.max_restarts = 3, .window = std::chrono::seconds{30}})
///       .handle(on_order);
/// @endcode
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace brook {

/// `initial * multiplier^(n-1)`, capped at `max`, then +-`jitter` (a fraction).
struct backoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10000};
  double multiplier = 2.0;
  double jitter = 0.2;
  /// The delay before try number `n` (n >= 1); `random01` in [0, 1).
  std::chrono::milliseconds delay(std::size_t n, double random01) const noexcept {
    double d = static_cast<double>(initial.count());
    for (std::size_t k = 1; k < n && d < static_cast<double>(max.count()); ++k)
      d *= multiplier;
    if (d > static_cast<double>(max.count()))
      d = static_cast<double>(max.count());
    d *= 1.0 + jitter * (2.0 * random01 - 1.0);
    return std::chrono::milliseconds{d < 0 ? 0 : static_cast<std::int64_t>(d)};
  }
};

/// How often an actor may die before its parent gives up: more than
/// `max_restarts` deaths within `window` escalate (the subscriber stops, the
/// app exits with 70). Restarts wait `backoff.delay(n)` for the n-th restart.
struct restart_policy {
  std::size_t max_restarts = 5;
  std::chrono::milliseconds window{10000};
  brook::backoff backoff{std::chrono::milliseconds{10}, std::chrono::milliseconds{1000}, 2.0, 0.2};
};

/// Retries of a failed message: a handler error (whatever the ack policy: asking
/// for retries means failures are retried), a nack by policy or by `nack_message`.
/// A decode error is never retried (the body will not change).
///
/// | field          | default | meaning |
/// |----------------|---------|---------|
/// | `max_attempts` | 0       | deliveries in all, the first included; 0 = unbounded |
/// | `backoff`      | 100 ms .. 10 s, x2, +-20% | wait before each retry |
///
/// Where the subscription has `delayed_nack`, the broker waits and redelivers;
/// elsewhere the handler actor keeps the message (its credit too) and runs it
/// again after the wait. After `max_attempts` the message goes to the
/// subscriber's dead-letter publisher, or is rejected when it has none.
struct retry_policy {
  std::uint32_t max_attempts = 0;
  brook::backoff backoff{};
};

namespace detail {
/// Uniform in [0, 1), per thread (jitter only: no secrecy needed).
double random01() noexcept;
}  // namespace detail

}  // namespace brook
