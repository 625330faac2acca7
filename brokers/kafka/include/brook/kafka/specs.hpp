#pragma once
/// @file
/// Typed declarations of the Kafka driver: what to consume (`topic`) and where
/// to produce (`topic_out`).
///
/// @code
/// broker.subscriber(brook::kafka::topic{.name = "orders", .group = "billing"});
/// broker.subscriber(brook::kafka::topic{.name = "^orders\\..*", .pattern = true, .group =
/// "audit"}); broker.publisher(brook::kafka::topic_out{.name = "receipts", .key = "eu"});
/// @endcode
/// On the seam the address and the group are read from `subscription_spec` (where a
/// router's prefix has been applied), the other members from the typed value. An
/// empty spec is a `topic` with the subscription's group.
#include <brook/capabilities.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class object;
}

namespace brook::kafka {

/// Where a group without a committed offset starts (librdkafka's `auto.offset.reset`).
enum class offset_reset : std::uint8_t { latest, earliest };

/// Offsets `broker::seek` takes besides a record's own: a partition's first record still
/// kept, or its end (what is written next).
inline constexpr std::int64_t offset_beginning = -2;
inline constexpr std::int64_t offset_end = -1;

/// Consumes a topic: `name` (a regex with `pattern`, librdkafka's `^...` form) and
/// `more` topics. With a `group` the subscription is a member of that consumer
/// group: partitions are assigned by the group (cooperative-sticky with
/// `cooperative`), offsets are committed for the settled prefix of each partition,
/// a nack seeks the partition back so the message and what followed it come again.
/// Without a group, or with `partitions`, it reads those partitions (all of them
/// without `partitions`) from `reset`, commits nothing and has no acks; such a
/// subscription can start elsewhere instead: at `start_offset` of every partition, or
/// at the first record written at or after `start_timestamp_ms`.
/// @code
/// // Replays partition 0 of "orders" from offset 1200:
/// broker.subscriber(brook::kafka::topic{.name = "orders", .partitions = {0}, .start_offset =
/// 1200});
/// // Everything since midnight, every partition:
/// broker.subscriber(brook::kafka::topic{.name = "orders", .start_timestamp_ms = midnight_ms});
/// @endcode
struct topic {
  static constexpr std::string_view protocol = "kafka";
  static constexpr std::string_view kind = "topic";
  std::string name;
  std::vector<std::string> more;              ///< further topics of the same subscription
  bool pattern = false;                       ///< `name` is a regex (must start with `^`)
  std::string group;                          ///< consumer group (`group.id`); empty = no group
  offset_reset reset = offset_reset::latest;  ///< FastStream's default
  std::vector<std::int32_t> partitions;       ///< manual assignment of `name`'s partitions
  std::string group_instance_id;              ///< static membership
  bool cooperative = false;                   ///< cooperative-sticky assignment
  std::map<std::string, std::string> config;  ///< librdkafka settings for this consumer
  /// Without a group (or with `partitions`): the offset to start at on each partition
  /// (-1: from `reset`). One past a partition's end is out of range: librdkafka falls
  /// back to `reset` and the subscriber counts a gap.
  std::int64_t start_offset = -1;
  /// Without a group (or with `partitions`): start at the first record whose timestamp is
  /// at or after this (ms since the epoch; 0: not used). None that late: the partition's end.
  std::int64_t start_timestamp_ms = 0;

  brook::capabilities capabilities() const noexcept {
    if (group.empty() || !partitions.empty())
      return {};
    return {.acks = ack_mode::cumulative, .nack_redelivers = true};
  }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Produces to a topic: `key` (every message of this target), `partition`
/// (-1: librdkafka's partitioner, by key), `timestamp_ms` (0: now). Completes on
/// the delivery report (acks=all with the idempotent producer).
struct topic_out {
  static constexpr std::string_view protocol = "kafka";
  static constexpr std::string_view kind = "topic";
  std::string name;
  std::string key;
  std::int32_t partition = -1;
  std::int64_t timestamp_ms = 0;
  bool tombstone = false;  ///< a null value (compaction's delete marker); the body is ignored

  void bindings(std::string_view address, boost::json::object& out) const;
};

}  // namespace brook::kafka
