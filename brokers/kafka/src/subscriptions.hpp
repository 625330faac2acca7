#pragma once
// The driver's subscriptions: a consumer per subscription, polled by a thread
// of its own that takes at most the credit, commits the settled prefix of each
// partition and finishes a revoked partition's in-flight messages before it
// gives the partition up.
#include <brook/transport.hpp>
#include <memory>

#include "client.hpp"

namespace brook::kafka {

/// Consumes what `spec` declares (a `topic`, or a plain address) into `sink`.
/// `unlimited`: no credit (a reply route).
std::unique_ptr<subscription> subscribe_topic(const std::shared_ptr<client>& cl,
                                              const subscription_spec& spec,
                                              std::shared_ptr<delivery_sink> sink,
                                              bool unlimited = false);

/// Reports `why` to `sink` once and returns a subscription that delivers nothing.
std::unique_ptr<subscription> failed_subscription(delivery_sink& sink, error_info why);

}  // namespace brook::kafka
