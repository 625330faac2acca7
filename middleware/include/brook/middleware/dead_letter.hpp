#pragma once
/// @file
/// Where messages go once the core gives up on them, for every subscriber the
/// middleware wraps.
///
/// After the last attempt of `retry` (or at once, without retries, when the
/// handler fails), a copy is published to `target`, which may belong to any
/// broker of the app, with the headers `x-brook-dead-letter-reason`,
/// `x-brook-original-channel`, `x-brook-attempts` and `x-brook-broker-id`
/// (the broker's own id of the message). The input is settled only once that
/// publish succeeded: a failed dead-letter publish nacks it where the broker
/// can keep it.
///
/// @code
/// auto parked = redis.publisher(brook::redis::list_out{.name = "orders.dead"});
/// broker.middleware(std::make_shared<brook::middleware::dead_letter>(parked));
/// @endcode
#include <brook/middleware.hpp>
#include <brook/publisher.hpp>

namespace brook::middleware {

class dead_letter final : public base {
public:
  explicit dead_letter(const brook::publisher& target) : target_(target.decl()) {}
  void configure(subscriber_policies& p) const override;

private:
  std::shared_ptr<detail::publisher_decl> target_;
};

}  // namespace brook::middleware
