#pragma once
/// @file
/// Settings of the in-memory broker.
///
/// | option      | default | meaning |
/// |-------------|---------|---------|
/// | `glob_patterns` | false | `*` spans any characters (Redis PSUBSCRIBE) instead of one segment |
/// | `max_queue` | 0       | messages a subscription may hold undelivered; 0 = unbounded. A publish
/// beyond it fails with `errc::overflow` (nothing is dropped silently) |
///
/// A subscription with a driver's typed spec (`brook::redis::list`, ...) gets
/// that spec's capabilities: a Redis list or pub/sub channel has no acks, so a
/// nack there is a counted drop, as on the real server. Without one it is a
/// queue with acks and redelivery.
///
/// @code
/// brook::memory::broker broker{{.max_queue = 10'000}};
/// @endcode
#include <cstddef>
#include <memory>
#include <string>

namespace brook {
class transport;
}

namespace brook::memory {

struct settings {
  std::size_t max_queue = 0;
  /// `*` in patterns: one `.`-separated segment (false), or any characters
  /// like a Redis glob (true). The test broker sets it from the real broker.
  bool glob_patterns = false;
  /// `*` and `>` in any subscribed name are wildcards (NATS subjects), not only in
  /// declarations with `pattern` set. The test broker sets it from the real broker.
  bool wildcard_names = false;
  /// The kind a publish without a typed target reaches (the real broker's default
  /// subscription kind: Redis `channel`, NATS `subject`).
  std::string default_kind = "channel";
};

class memory_transport;

/// The in-memory transport (exact addresses and `*`/`>` wildcard patterns,
/// fan-out per subscription, competing consumers per group, ack/nack/reject).
std::shared_ptr<memory_transport> make_transport(settings s = {});

}  // namespace brook::memory
