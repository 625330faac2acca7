#pragma once
/// @file
/// Kafka driver: settings and the transport factory.
///
/// The driver speaks to Kafka through librdkafka: one idempotent producer per
/// transport (its delivery reports complete the publishes), and one consumer per
/// subscription, each polled by a thread of its own that takes only as many
/// messages as the subscriber has credit (the partitions are paused otherwise)
/// and commits only the contiguous prefix of settled offsets per partition
/// (`brook::commit_tracker`). No librdkafka header is visible here.
///
/// @code
/// brook::kafka::settings s;
/// s.bootstrap = "127.0.0.1:9092";
/// s.config["compression.type"] = "lz4";             // any librdkafka setting by name
/// auto t = brook::kafka::make_transport(s);
/// if (auto err = t->start()) std::cerr << err.message << '\n';   // keeps retrying
/// @endcode
///
// clang-format off
/// ## Subscriptions (`subscription_spec::driver`, types in `brook/kafka/specs.hpp`)
/// | declaration | Kafka side | credit | capabilities |
/// |---|---|---|---|
/// | `topic` with a `group` | a group member subscribed to the topic(s) (or a regex) | paused partitions when the credit is used | cumulative acks: the settled prefix is committed; nack seeks back and redelivers |
/// | `topic` without a group, or with `partitions` | assigned partitions, no commits | as above | no acks: a nack is a counted drop |
///
/// ## Publishing (`outgoing::driver`)
/// | target | Kafka side |
/// |---|---|
/// | none, or `topic_out` | produce with headers; `key`, `partition`, `timestamp_ms` from `topic_out`; completes on the delivery report |
// clang-format on
#include <brook/transport.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace brook::kafka {

struct settings {
  /// `host:port[,host:port...]`, optionally as `kafka://host:port`.
  std::string bootstrap = "127.0.0.1:9092";
  std::string client_id = "brook";
  /// Any librdkafka setting by name, for the producer and every consumer
  /// (`security.protocol`, `sasl.mechanism`, `ssl.ca.location`, `linger.ms`, ...).
  /// Values here win over the driver's defaults below.
  std::map<std::string, std::string> config;
  /// Settings for the producer only, and for consumers only (win over `config`).
  std::map<std::string, std::string> producer_config, consumer_config;
  /// The idempotent producer with acks=all (librdkafka's `enable.idempotence`).
  bool idempotent = true;
  /// How long a partition's in-flight messages may take to finish when the group
  /// takes the partition away; what is still running then is abandoned (counted, and
  /// redelivered to the partition's next owner, since it is not committed).
  std::chrono::milliseconds revoke_timeout{10000};
  std::chrono::milliseconds poll_wait{100};  ///< one consumer poll's wait
  /// How long `start()` waits for the first metadata answer before it reports that
  /// the cluster is not reachable yet (librdkafka keeps trying).
  std::chrono::milliseconds connect_timeout{5000};
  /// What happened (connected, lost, rebalances, abandoned messages), for the
  /// broker's log. Called from the driver's threads.
  std::function<void(const error_info&)> on_event;
};

/// A Kafka transport with these settings (connects on `start()`).
std::shared_ptr<brook::transport> make_transport(const settings& s);

}  // namespace brook::kafka
