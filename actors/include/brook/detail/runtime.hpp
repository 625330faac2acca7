#pragma once
// The actor runtime behind `brook::app` and the test broker: an actor system
// (owned, or a user's one when embedding), a supervisor, and the subscriber
// actors of every started broker. No CAF header here on purpose.
#include <brook/middleware.hpp>
#include <brook/observer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caf {
class actor_system;
class actor;
}  // namespace caf

namespace brook {
class broker;
class dependency_registry;
}  // namespace brook

namespace brook::detail {

/// Why a subscriber lost a message it had taken from the broker.
enum class drop_reason : std::uint8_t {
  handler_died,       ///< in flight on a handler actor that died; the broker cannot redeliver
  not_redeliverable,  ///< nacked (policy, nack_message, a failed result publish), no redelivery
  stopped,            ///< the subscriber stopped (drain timeout, escalation) holding it
  driver,             ///< the driver's own count: pub/sub overflow, a failed push-back
};
inline constexpr std::size_t drop_reason_count = 4;
std::string_view to_string(drop_reason r) noexcept;

/// A snapshot of one subscriber's counters. Every message taken from the
/// broker ends in exactly one of: acked (`processed` or a policy ack), `rejected`,
/// `nacked` (back on the broker), `dead_lettered` or `dropped` with a reason.
struct subscriber_snapshot {
  std::string address;
  std::string protocol;     ///< its broker's: `redis`, `nats`, `kafka`, `memory`
  metric_labels labels;     ///< the subscriber's telemetry labels
  bool subscribed = false;  ///< its broker confirmed the subscription (readiness)
  std::uint64_t received = 0, processed = 0, failed = 0, rejected = 0, nacked = 0,
                decode_errors = 0, restarts = 0, acked = 0, retried = 0, dead_lettered = 0;
  /// Acked without running the handler: a `middleware::shared` said skip (a duplicate).
  std::uint64_t skipped = 0;
  /// Incidents in which messages may have been missed without being counted one by
  /// one (a pub/sub connection down, a pop's reply lost): see `delivery_sink::gap`.
  std::uint64_t gaps = 0;
  /// Times the subscription's connection dropped (see `delivery_sink::interrupted`).
  std::uint64_t interruptions = 0;
  std::size_t in_flight = 0, max_in_flight_seen = 0;
  /// Delivered by the driver and not finished yet (queued for dispatch, in
  /// flight, waiting for a handler restart or a retry).
  std::size_t held = 0;
  /// Losses by reason (`handler_died`, `not_redeliverable`, `stopped`, `driver`).
  std::map<std::string, std::uint64_t, std::less<>> dropped;
  std::uint64_t dropped_total() const noexcept {
    std::uint64_t n = 0;
    for (auto& [k, v] : dropped)
      n += v;
    return n;
  }
  std::uint64_t dropped_for(std::string_view reason) const {
    auto i = dropped.find(reason);
    return i == dropped.end() ? 0 : i->second;
  }
};

/// One broker connection as its connection actor saw it (`app::connections()`).
struct connection_snapshot {
  std::string url;       ///< without credentials
  std::string protocol;  ///< `redis`, `memory`, ...
  bool up = false;       ///< connected and not reported lost, stalled or failed since
  /// Events reported by the driver: (re)connections, drops, stalls (the broker
  /// stopped answering), fatal errors, and transport restarts after those.
  std::uint64_t connects = 0, losses = 0, stalls = 0, fatals = 0, restarts = 0;
  std::string last_error;  ///< the last drop, stall or failure; empty when none
  /// The outbound window (`broker::max_publish_in_flight`): its size, publishes in
  /// flight now and at most so far, and how many found it full and waited.
  std::size_t publish_window = 0, publish_in_flight = 0, publish_max_in_flight = 0;
  std::uint64_t publish_waited = 0;
};

class runtime {
public:
  /// Owns an actor system with `workers` scheduler threads (0 = CAF's default).
  explicit runtime(std::size_t workers = 0, std::size_t idle_polls = 2000);
  /// Runs on a user's actor system (embedding); it must outlive the runtime.
  explicit runtime(caf::actor_system& sys);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Connects `b`'s transport and spawns its subscribers. `outer` middlewares
  /// (the app's) wrap the broker's; `deps` becomes the broker's fallback registry.
  /// Throws std::invalid_argument on declaration errors (missing dependencies, no handler).
  void start_broker(broker& b, const std::vector<middleware_ptr>& outer,
                    std::shared_ptr<dependency_registry> deps);
  /// Drains every subscriber (in-flight messages finish) within `timeout`,
  /// then stops the actors and closes the transports. Returns false on timeout.
  bool stop(std::chrono::milliseconds timeout);

  /// Called once when supervision gives up (restart intensity exceeded).
  void on_escalation(std::function<void(std::string)> f);
  bool escalated() const noexcept;
  /// How long an escalation drains the remaining subscribers (before the first start).
  void set_drain_budget(std::chrono::milliseconds budget);
  /// The supervisor of every subscriber; invalid before the first broker starts and
  /// after stop. It exits with an error once supervision gives up.
  caf::actor supervisor() const;

  std::vector<subscriber_snapshot> stats() const;
  /// One entry per broker, in start order.
  std::vector<connection_snapshot> connections() const;
  /// The observer (telemetry) the next `start_broker` calls report to.
  void set_observer(observer_ptr obs);
  /// Liveness: the supervisor actor answered within `timeout` (the scheduler makes progress).
  bool alive(std::chrono::milliseconds timeout) const;
  /// Every subscription is confirmed by its broker (readiness).
  bool subscriptions_ready() const;
  /// Live handler actors of the subscriber on `address` (tests, introspection).
  std::vector<caf::actor> handler_actors(std::string_view address) const;
  caf::actor_system& system();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace brook::detail
