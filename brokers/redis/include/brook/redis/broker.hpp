#pragma once
/// @file
/// The Redis broker: pub/sub channels (and patterns), lists and streams (with
/// consumer groups), on hiredis, wire-compatible with FastStream.
///
/// @code
/// brook::redis::broker broker{"redis://localhost:6379/0"};
/// broker.subscriber(brook::redis::channel{"events.*", .pattern = true}).handle(on_event);
/// broker.subscriber(brook::redis::list{"jobs"}).handle(on_job);
/// broker.subscriber(brook::redis::stream{"orders", .group = "billing"})
///       .publisher(brook::redis::stream_out{"receipts", .maxlen = 10000})
///       .handle([](const order& o) { return receipt{o.id}; });
/// brook::app app{broker, {.title = "billing"}};
/// return app.run(argc, argv);
/// @endcode
/// `broker.subscriber("name")` is a pub/sub channel, as in FastStream.
#include <brook/broker.hpp>
#include <brook/redis/settings.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace brook::redis {

/// A pub/sub channel; `pattern` subscribes with PSUBSCRIBE (`*`, `?`, `[..]`).
struct channel {
  std::string name;
  bool pattern = false;
};

/// A list consumed with pops (only while the subscriber has credit).
struct list {
  std::string name;
  std::size_t batch = 0;  ///< elements per pop; 0 = the driver's read_batch
};

/// A stream: XREAD without `group`; XREADGROUP with it (created on demand).
///
/// With a group, the consumer name is stable across restarts (default
/// `brook:<host>:<stream>`, a `:<n>` suffix for a second subscriber of the same
/// stream and group in one process), so a restarted service first re-reads its
/// own pending entries; entries of consumers that died elsewhere are claimed
/// once idle for `min_idle` (XAUTOCLAIM; default 60 s, 0 = never).
struct stream {
  std::string name;
  std::string group;
  std::string consumer;                      ///< default: stable, from host and stream
  std::size_t batch = 0;                     ///< COUNT per read; bounded by credit too
  bool no_ack = false;                       ///< XREADGROUP NOACK
  /// Claim pending entries idle this long (XAUTOCLAIM); default 60 s with a
  /// group and acks, `std::chrono::milliseconds{0}` turns claiming off.
  std::optional<std::chrono::milliseconds> min_idle;
  std::string last_id;                       ///< start id; default `$` (new entries)
};

/// Where a publisher writes: a list (RPUSH) or a stream (XADD, optional MAXLEN).
struct list_out {
  std::string name;
};
struct stream_out {
  std::string name;
  std::size_t maxlen = 0;
};

class broker : public brook::broker {
public:
  explicit broker(std::string url = "redis://127.0.0.1:6379", settings s = {});

  using brook::router::publisher;
  using brook::router::subscriber;
  subscriber_builder subscriber(const channel& c);
  subscriber_builder subscriber(const list& l);
  subscriber_builder subscriber(const stream& s);
  brook::publisher publisher(const list_out& l);
  brook::publisher publisher(const stream_out& s);

  asyncapi::server_spec server() const override;
  bool glob_patterns() const noexcept override { return true; }
  boost::json::object bindings(const detail::subscriber_decl& d) const override;
  boost::json::object bindings(const detail::publisher_decl& p) const override;

protected:
  subscription_spec default_spec(std::string address) const override;

private:
  settings settings_;
};

}  // namespace brook::redis
