#pragma once
// The driver's two kinds of subscription: core subjects (nats.c's delivery
// thread, a bounded buffer beyond the credit) and JetStream pull consumers (a
// fetch thread that asks for at most the credit).
#include <brook/transport.hpp>
#include <memory>

#include "client.hpp"

namespace brook::nats {

std::unique_ptr<subscription> subscribe_subject(const std::shared_ptr<client>& cl,
                                                const subscription_spec& spec,
                                                std::shared_ptr<delivery_sink> sink,
                                                bool unlimited = false);

std::unique_ptr<subscription> subscribe_jetstream(const std::shared_ptr<client>& cl,
                                                  const subscription_spec& spec,
                                                  std::shared_ptr<delivery_sink> sink);

std::unique_ptr<subscription> subscribe_kv(const std::shared_ptr<client>& cl,
                                           const subscription_spec& spec,
                                           std::shared_ptr<delivery_sink> sink);

/// Reports `why` to `sink` once and returns a subscription that delivers nothing.
std::unique_ptr<subscription> failed_subscription(delivery_sink& sink, error_info why);

/// Opens a key-value bucket, creating it when missing (History 10).
natsStatus open_bucket(jsCtx* js, const std::string& bucket, kvStore** kv);

/// The client behind a NATS transport (null for any other transport).
std::shared_ptr<client> client_of(const std::shared_ptr<brook::transport>& t);

/// Whether the subject pattern `p` matches every subject `f` matches (`*`, `>`).
bool covers(std::string_view p, std::string_view f);

}  // namespace brook::nats
