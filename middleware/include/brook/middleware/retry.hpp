#pragma once
/// @file
/// Retries of failed messages for every subscriber the middleware wraps.
///
/// A failure (a handler error under any ack policy, a nack) is retried with
/// exponential backoff and jitter until `max_attempts` deliveries in all;
/// then the message goes to the dead-letter publisher (`dead_letter.hpp`) or
/// is rejected. Where the subscription has `delayed_nack` the broker waits and
/// redelivers; elsewhere the handler actor keeps the message (and its credit)
/// and runs it again. Decode errors are never retried.
///
/// @code
/// broker.middleware(std::make_shared<brook::middleware::retry>(brook::retry_policy{
///     .max_attempts = 5, .backoff = {.initial = 200ms, .max = 30s}}));
/// broker.subscriber("payments").retry({.max_attempts = 2});  // its own policy wins
/// @endcode
#include <brook/middleware.hpp>
#include <brook/policy.hpp>
#include <brook/publisher.hpp>

namespace brook::middleware {

class retry final : public base {
public:
  explicit retry(retry_policy p) : policy_(p) {}
  /// Also republishes retries to `through` where the broker cannot wait
  /// (`subscriber_builder::retry_through`).
  retry(retry_policy p, const brook::publisher& through) : policy_(p), through_(through.decl()) {}
  void configure(subscriber_policies& p) const override;
  const retry_policy& policy() const noexcept { return policy_; }

private:
  retry_policy policy_;
  std::shared_ptr<detail::publisher_decl> through_;
};

}  // namespace brook::middleware
