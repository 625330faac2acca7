#pragma once
/// @file
/// The Kafka broker: consumer groups with safe commits (only the settled prefix
/// of each partition), credit as paused partitions, an idempotent producer whose
/// delivery reports complete the publishes, on librdkafka, wire-compatible with
/// FastStream.
///
/// @code
/// brook::kafka::broker broker{"127.0.0.1:9092"};
/// broker.subscriber(brook::kafka::topic{.name = "orders", .group = "billing",
///                                       .reset = brook::kafka::offset_reset::earliest})
///       .publisher(brook::kafka::topic_out{.name = "receipts"})
///       .handle([](const order& o) { return receipt{o.id}; });
/// brook::app app{broker, {.title = "billing"}};
/// return app.run(argc, argv);
/// @endcode
/// `broker.subscriber("name")` is a `topic` without a group; `.group` on the
/// declaration (or a router's group) makes it a group member. Declarations:
/// `brook/kafka/specs.hpp`; settings: `brook/kafka/settings.hpp`.
#include <brook/broker.hpp>
#include <brook/kafka/settings.hpp>
#include <brook/kafka/specs.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace brook::kafka {

class broker : public brook::broker {
public:
  explicit broker(std::string bootstrap = "127.0.0.1:9092", settings s = {});
  using brook::broker::bindings;
  asyncapi::server_spec server() const override;
  boost::json::object bindings(const detail::publisher_decl& p) const override;

  /// Moves where this broker's running subscriptions read `topic`: `partition` (-1:
  /// every partition they hold of it) continues at `offset` (or `offset_beginning`,
  /// `offset_end`). In a group, what settled is committed first; the messages still
  /// running finish, but their outcomes no longer move the commit, which follows the
  /// new position from its first settled record (at least once from there). Applied on
  /// each consumer's thread soon after; a partition it does not hold, or a refused seek,
  /// is reported as a driver event (logged). Returns `not_found` when no running
  /// subscription reads `topic`, `invalid_argument` before the broker runs on Kafka.
  /// @code
  /// broker.seek("orders", 0, 1200);                          // replay partition 0 from 1200
  /// broker.seek("orders", -1, brook::kafka::offset_end);     // skip the backlog
  /// broker.seek_to_time("orders", -1, midnight_ms);          // everything since midnight
  /// @endcode
  error_info seek(std::string_view topic, std::int32_t partition, std::int64_t offset);
  /// As `seek`, to the first record written at or after `timestamp_ms` (ms since the
  /// epoch; none that late: the partition's end).
  error_info seek_to_time(std::string_view topic, std::int32_t partition,
                          std::int64_t timestamp_ms);

protected:
  subscription_spec default_spec(std::string address) const override;

private:
  settings settings_;
};

}  // namespace brook::kafka
