#pragma once
// The actor runtime behind `brook::app` and the test broker: an actor system
// (owned, or a user's one when embedding), a supervisor, and the subscriber
// actors of every started broker. No CAF header here on purpose.
#include <brook/middleware.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
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

/// A snapshot of one subscriber's counters.
struct subscriber_snapshot {
  std::string address;
  std::uint64_t received = 0, processed = 0, failed = 0, rejected = 0, nacked = 0,
                decode_errors = 0, restarts = 0;
  std::size_t in_flight = 0, max_in_flight_seen = 0;
};

class runtime {
public:
  /// Owns an actor system with `workers` scheduler threads (0 = CAF's default).
  explicit runtime(std::size_t workers = 0);
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

  std::vector<subscriber_snapshot> stats() const;
  /// Live handler actors of the subscriber on `address` (tests, introspection).
  std::vector<caf::actor> handler_actors(std::string_view address) const;
  caf::actor_system& system();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace brook::detail
