#pragma once
/// @file
/// Typed declarations of the NATS driver: what to subscribe to (`subject`,
/// `jetstream`) and where to publish (`subject`, `jetstream_out`).
///
/// They travel through the seam as `brook::driver_spec` and are read back by
/// the driver; each says what its subscriptions can do (`capabilities()`, which
/// the test broker copies) and writes its AsyncAPI bindings.
///
/// @code
/// broker.subscriber(brook::nats::subject{.name = "orders.*", .queue = "billing"});
/// broker.subscriber(brook::nats::jetstream{.name = "orders.created", .stream = "orders",
///                                          .durable = "billing", .max_deliver = 5});
/// broker.publisher(brook::nats::jetstream_out{.name = "receipts"});   // completes on the PubAck
/// @endcode
/// On the seam the address and the queue group are read from `subscription_spec`
/// (where a router's prefix has been applied: `subscription_spec::group` is the
/// `queue`), the other members from the typed value. An empty spec is a core subject.
#include <brook/capabilities.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace boost::json {
class object;
}

namespace brook::nats {

/// A core NATS subject (`*` matches one token, `>` the rest); with `queue`, one
/// member of the queue group gets each message. Core NATS keeps nothing and
/// cannot pause: a bounded buffer per subscription (`settings::subject_buffer`),
/// overflow and nats.c's slow-consumer drops counted. As a publish target, a
/// core publish (a request's reply subject is the native reply subject).
struct subject {
  static constexpr std::string_view protocol = "nats";
  static constexpr std::string_view kind = "subject";
  std::string name;
  std::string queue;  ///< queue group; empty = every subscriber gets every message

  brook::capabilities capabilities() const noexcept { return {.pausable = false}; }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Where a JetStream consumer starts when it is created.
enum class deliver_policy : std::uint8_t { all, last, new_only };

/// How a JetStream subscription takes its messages.
enum class consumer_mode : std::uint8_t {
  /// Fetches at most the subscriber's credit (`batch` at most) per request.
  pull,
  /// The server pushes to a deliver subject, at most `max_ack_pending`
  /// unacknowledged; with a `queue` the durable has that deliver group and its
  /// members share the messages (FastStream's default JetStream subscriber). What
  /// the credit does not take yet waits in nats.c's buffer and is handed back
  /// (NAK) when the subscription stops.
  push,
  /// An ordered consumer: ephemeral, pushed in stream order with flow control,
  /// no acks and no redelivery (nats.c makes it again after a gap). For readers
  /// that replay a stream; a nack cannot redeliver (counted as a drop).
  ordered,
};

/// A JetStream pull consumer on `stream`, filtered to the subject `name`. The
/// stream is created with that subject when missing, or the subject is added to
/// its subjects (FastStream's merge). The consumer is `durable` (kept by the
/// server across restarts and shared by every subscriber using the name: they
/// compete); without one, a subscriber with a `queue` uses the durable
/// `<queue>-<subject>` (dots and wildcards as `_`), so a queue's members compete
/// and resume where they were; with neither it is ephemeral (this subscription's
/// own, gone with it, starting at `deliver`).
/// Each fetch asks for at most the subscriber's credit (`batch` at most), and
/// the server holds at most `max_ack_pending` unacknowledged messages.
/// Settlement: ack = +ACK, nack = -NAK (with the retry policy's delay: NAK
/// with delay), reject = +TERM; `max_deliver` is the native attempt limit.
/// `mode` picks a pull (default), push or ordered consumer (see `consumer_mode`).
/// @code
/// // FastStream's push subscriber with a deliver group: two services share "billing".
/// broker.subscriber(brook::nats::jetstream{.name = "orders.*", .stream = "orders",
///                                          .queue = "billing",
///                                          .mode = brook::nats::consumer_mode::push});
/// @endcode
struct jetstream {
  static constexpr std::string_view protocol = "nats";
  static constexpr std::string_view kind = "jetstream";
  static constexpr bool competing = true;
  std::string name;       ///< the filter subject (wildcards allowed)
  std::string stream;     ///< required
  std::string durable;    ///< empty = `<queue>-<subject>` with a queue, else ephemeral
  std::string queue;      ///< subscribers with the same queue compete (a shared durable)
  std::size_t batch = 0;  ///< most messages per fetch; 0 = `settings::fetch_batch`
  std::int64_t max_ack_pending = 1000;        ///< the server's bound on unacknowledged messages
  std::int64_t max_deliver = 0;               ///< attempts in all; 0 = unlimited
  std::chrono::milliseconds ack_wait{30000};  ///< redelivery after this without a settlement
  deliver_policy deliver = deliver_policy::all;
  consumer_mode mode = consumer_mode::pull;

  brook::capabilities capabilities() const noexcept {
    if (mode == consumer_mode::ordered)
      return {};  // no acks: taken is gone (the stream still has it)
    return {.acks = ack_mode::per_message,
            .nack_redelivers = true,
            .delayed_nack = true,
            .counts_attempts = true,
            .native_max_deliveries = max_deliver > 0,
            .max_deliveries = max_deliver > 0 ? static_cast<std::uint32_t>(max_deliver) : 0};
  }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Watches a key-value bucket: every put (and, unless `ignore_deletes`, every delete
/// or purge) of a key matching `name` (`*` one token, `>` the rest; default every
/// key) is a message: the key as its channel, the value as its body, metadata
/// `bucket`, `revision` and `operation` (put, delete, purge). It starts with the
/// bucket's current values (all of each key's history with `history`), then follows
/// changes; it takes the next entry only while the subscriber has credit. No acks:
/// a watch has nothing to settle. The bucket is created when missing.
struct kv_watch {
  static constexpr std::string_view protocol = "nats";
  static constexpr std::string_view kind = "kv";
  std::string name = ">";  ///< the keys to watch
  std::string bucket;      ///< required
  bool history = false;
  bool ignore_deletes = false;

  brook::capabilities capabilities() const noexcept { return {}; }
  void bindings(std::string_view address, boost::json::object& out) const;
};

/// Publishes to JetStream and completes on the server's PubAck (an error when no
/// stream takes the subject). The message id goes out as `Nats-Msg-Id`, so the
/// stream's duplicate window drops a resend.
struct jetstream_out {
  static constexpr std::string_view protocol = "nats";
  static constexpr std::string_view kind = "jetstream";
  std::string name;    ///< read by `broker.publisher(jetstream_out{...})`
  std::string stream;  ///< when set, the PubAck must come from this stream (Nats-Expected-Stream)

  void bindings(std::string_view address, boost::json::object& out) const;
};

}  // namespace brook::nats
