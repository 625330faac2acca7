#pragma once
/// @file
/// What a subscription can do: the words the core decides a nack, a handler's
/// death, a retry and a drain by.
///
/// @code
/// brook::capabilities c{.acks = brook::ack_mode::per_message, .nack_redelivers = true};
/// if (!c.can_keep()) count_as_dropped();
/// @endcode
#include <cstdint>

namespace brook {

/// How a subscription's deliveries are settled on the broker.
enum class ack_mode {
  none,         ///< no acknowledgement: taken is gone (Redis pub/sub, lists, NOACK streams)
  per_message,  ///< each delivery is settled on its own (XACK, basic.ack, JetStream ack)
  cumulative,   ///< an offset commits everything before it (Kafka): see commit_tracker
};

/// What a subscription can do. The core reads these to decide what a nack, a
/// handler's death, a retry and a drain mean for it.
/// @code
/// brook::capabilities c{.acks = brook::ack_mode::per_message, .nack_redelivers = true};
/// @endcode
struct capabilities {
  ack_mode acks = ack_mode::none;
  bool nack_redelivers = false;  ///< a nack brings the message back (to this group)
  bool delayed_nack = false;     ///< `acknowledger::nack_after(delay)` is native
  bool pausable = true;          ///< no credit stops the broker; false: a bounded, counted buffer
  bool ordered = true;           ///< deliveries arrive in publish order (per partition)
  bool counts_attempts = false;  ///< `delivery_info::attempt` is the broker's own count
  bool native_max_deliveries = false;  ///< the broker stops redelivering by itself
  /// With `native_max_deliveries`: after this many deliveries (`delivery_info::attempt`),
  /// so the core gives up on the last one (dead-letter or reject) instead of nacking a
  /// message the broker would then keep but never deliver again. 0 = unknown.
  std::uint32_t max_deliveries = 0;
  /// Whether a delivery that the core gives up on can be kept by the broker.
  bool can_keep() const noexcept { return acks != ack_mode::none && nack_redelivers; }
};

}  // namespace brook
