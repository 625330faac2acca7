#pragma once
/// @file
/// Typed declarations of the Redis driver: what to subscribe to (`channel`,
/// `list`, `stream`) and where to publish (`channel`, `list_out`, `stream_out`).
///
/// They travel through the seam as `brook::driver_spec` and are read back by
/// the driver, so an option's typo is a compile error. Each says what its
/// subscriptions can do on a real Redis (`capabilities()`, which the test
/// broker copies) and writes its AsyncAPI bindings.
///
/// @code
/// broker.subscriber(brook::redis::stream{.name = "orders", .group = "billing", .batch = 50});
/// broker.publisher(brook::redis::stream_out{.name = "receipts", .maxlen = 10'000});
/// // on the raw seam:
/// auto sub = transport->subscribe(brook::subscription_spec::of(brook::redis::list{.name =
/// "jobs"}), sink); brook::outgoing m{.channel = "jobs", .body = "{}", .driver =
/// brook::redis::list_out{}};
/// @endcode
/// On the seam, the address, `pattern` and `group` are read from
/// `subscription_spec` (where a router's prefix has been applied), the other
/// members from the typed value. An empty spec is a pub/sub channel.
#include <brook/capabilities.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace boost::json {
class object;
}

namespace brook::redis {

/// A pub/sub channel (SUBSCRIBE, or PSUBSCRIBE with `pattern`: `*`, `?`, `[..]`);
/// as a publish target, PUBLISH. Redis pushes regardless of credit: a bounded
/// buffer per subscription (`settings::pubsub_buffer`), overflow counted.
struct channel {
  static constexpr std::string_view protocol = "redis";
  static constexpr std::string_view kind = "channel";
  std::string name;
  bool pattern = false;

  brook::capabilities capabilities() const noexcept { return {.pausable = false}; }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// A list consumed with pops (BLMPOP ... LEFT COUNT min(credit, batch)), only
/// while the subscriber has credit. Consumers of one list compete. A pop is
/// final: no acks, a nack or a handler's death is a counted drop.
struct list {
  static constexpr std::string_view protocol = "redis";
  static constexpr std::string_view kind = "list";
  static constexpr bool competing = true;
  std::string name;
  std::size_t batch = 0;  ///< elements per pop; 0 = `settings::read_batch`
  /// How long one blocking pop waits before it is reissued; unset = `settings::block_time`,
  /// 0 = no limit.
  std::optional<std::chrono::milliseconds> block;

  brook::capabilities capabilities() const noexcept { return {}; }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// A stream: XREAD without `group`; XREADGROUP with it (created on demand with
/// MKSTREAM at `last_id`).
///
/// With a group, the consumer name is stable across restarts (default
/// `brook:<host>:<stream>`, `:w<i>` for worker i of a `run --workers N` fleet, a `:<n>`
/// suffix for a second subscriber of the same stream and group in one process), so a
/// restarted service first re-reads its
/// own pending entries; entries of consumers that died elsewhere are claimed
/// once idle for `min_idle` (XAUTOCLAIM; default 60 s, 0 = never).
struct stream {
  static constexpr std::string_view protocol = "redis";
  static constexpr std::string_view kind = "stream";
  std::string name;
  std::string group;     ///< empty = XREAD (every reader sees every entry)
  std::string consumer;  ///< default: stable, from host and stream
  std::size_t batch =
      0;                ///< COUNT per read (never more than the credit); 0 = `settings::read_batch`
  bool no_ack = false;  ///< XREADGROUP NOACK: entries never become pending
  /// Claim pending entries idle this long (XAUTOCLAIM); unset = 60 s with a
  /// group and acks, `std::chrono::milliseconds{0}` turns claiming off.
  std::optional<std::chrono::milliseconds> min_idle;
  std::string
      last_id;  ///< where a new reader or group starts; empty = `$` (new entries), `0` = all
  /// How long one blocking read waits before it is reissued; unset = `settings::block_time`.
  std::optional<std::chrono::milliseconds> block;

  /// Per-message acks (XACK; a nack leaves the entry pending) with a group and
  /// without `no_ack`; else none.
  brook::capabilities capabilities() const noexcept {
    if (group.empty() || no_ack)
      return {};
    return {.acks = ack_mode::per_message, .nack_redelivers = true};
  }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Publishes with RPUSH.
struct list_out {
  static constexpr std::string_view protocol = "redis";
  static constexpr std::string_view kind = "list";
  std::string name;  ///< read by `broker.publisher(list_out{...})`; a publish names its channel

  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Publishes with XADD (the envelope in field `__data__`), trimmed with MAXLEN ~ `maxlen`.
struct stream_out {
  static constexpr std::string_view protocol = "redis";
  static constexpr std::string_view kind = "stream";
  std::string name;  ///< read by `broker.publisher(stream_out{...})`; a publish names its channel
  std::size_t maxlen = 0;  ///< 0 = no trimming

  void bindings(std::string_view address, boost::json::object& out) const;
};

}  // namespace brook::redis
