#pragma once
/// @file
/// A deadline for every message of the subscribers the middleware wraps.
///
/// A handler that returns a `deferred<T>` (or a coroutine, later) whose result
/// is not complete within the deadline fails with `brook::handler_timeout`, and
/// the failure goes through the ack policy, `retry` and `dead_letter` like any
/// other. A handler running synchronously cannot be interrupted; its time is
/// bounded by the scheduler, not by this.
///
/// @code
/// app.middleware(std::make_shared<brook::middleware::timeout>(std::chrono::seconds{30}));
/// @endcode
#include <brook/middleware.hpp>
#include <chrono>

namespace brook::middleware {

class timeout final : public base {
public:
  explicit timeout(std::chrono::milliseconds limit) : limit_(limit) {}
  void configure(subscriber_policies& p) const override;

private:
  std::chrono::milliseconds limit_;
};

}  // namespace brook::middleware
