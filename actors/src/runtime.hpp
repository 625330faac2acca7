#pragma once
// Private runtime pieces shared by the actors and the app.
#include <array>
#include <atomic>
#include <brook/caf.hpp>
#include <brook/detail/runtime.hpp>
#include <brook/subscriber.hpp>
#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "address.hpp"
#include "broker_core.hpp"

namespace brook::detail {

using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using handle_atom = caf::atom_constant<caf::atom("handle")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using published_atom = caf::atom_constant<caf::atom("published")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using handlers_atom = caf::atom_constant<caf::atom("handlers")>;
using cancelled_atom = caf::atom_constant<caf::atom("cancelled")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using admit_atom = caf::atom_constant<caf::atom("admit")>;
using settled_atom = caf::atom_constant<caf::atom("settled")>;
using admitted_atom = caf::atom_constant<caf::atom("admitted")>;
using linger_atom = caf::atom_constant<caf::atom("linger")>;

/// One handler run as a `middleware::shared` sees it (shared with its gate actor).
using query_ptr = std::shared_ptr<const middleware::admission_query>;

/// Spawns the actor that runs `mw` (one per shared middleware instance).
caf::actor spawn_gate(caf::actor_system& sys, std::shared_ptr<middleware::shared> mw,
                      std::shared_ptr<spdlog::logger> log);

/// Counters of one subscriber, readable from tests and metrics.
struct subscriber_stats {
  std::atomic<std::uint64_t> received{0}, processed{0}, failed{0}, acked{0}, rejected{0}, nacked{0},
      decode_errors{0}, restarts{0}, retried{0}, dead_lettered{0}, gaps{0}, interruptions{0},
      skipped{0};
  std::array<std::atomic<std::uint64_t>, drop_reason_count> dropped{};
  /// The driver's own drop count of subscriptions that ended (restarts).
  std::atomic<std::uint64_t> driver_dropped_before{0};
  std::atomic<std::size_t> in_flight{0}, max_in_flight_seen{0};
  /// Taken from the driver and not yet finished (queued, dispatched, waiting).
  std::atomic<std::int64_t> held{0};
  void drop(drop_reason r, std::uint64_t n = 1) noexcept {
    dropped[static_cast<std::size_t>(r)].fetch_add(n, std::memory_order_relaxed);
  }
};

/// What a transport's connection actor knows, readable from readiness and metrics.
struct connection_stats {
  std::atomic<bool> down{false};  ///< lost, stalled or fatal, and not back yet
  std::atomic<std::uint64_t> connects{0}, losses{0}, stalls{0}, fatals{0}, restarts{0};
  void set_last_error(std::string e) {
    std::lock_guard lock{mtx};
    last_error = std::move(e);
  }
  std::string get_last_error() const {
    std::lock_guard lock{mtx};
    return last_error;
  }

private:
  mutable std::mutex mtx;
  std::string last_error;
};

/// Spawns the connection actor of `core`'s transport and makes it the transport's
/// observer (call before `transport::start`). `escalate` is the runtime's.
caf::actor spawn_connection(caf::actor_system& sys, std::shared_ptr<broker_core> core,
                            std::shared_ptr<connection_stats> stats,
                            std::function<void(std::string)> escalate);

/// Everything a subscriber's actors need, resolved at start.
struct subscriber_runtime {
  std::shared_ptr<subscriber_decl> decl;
  std::shared_ptr<broker_core> core;
  std::vector<middleware_ptr> chain;  ///< app, broker, router, subscriber; outermost first
  /// Retry, dead-letter and timeout: from the chain's policy middlewares, then the
  /// subscriber's own options.
  subscriber_policies policies;
  /// The chain's `middleware::around` entries, outermost first (empty: a direct call).
  std::vector<middleware::around*> scopes;
  /// The actors of the chain's `middleware::shared` entries, outermost first.
  std::vector<caf::actor> gates;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<subscriber_stats> stats = std::make_shared<subscriber_stats>();
  /// Telemetry's probe of this subscription; null when the app has no observer.
  std::shared_ptr<subscription_probe> probe;
  bool has_path_params = false;
  std::atomic<bool> subscribed{false};  ///< readiness: the driver subscription exists
  /// The current subscription's capabilities; written by the subscriber actor
  /// before it hands out a delivery, read by its handlers.
  capabilities caps;
  /// Set once the app's stop has given up waiting for the drain: handlers start
  /// nothing more and give back what they hold.
  std::shared_ptr<std::atomic<bool>> abandoned = std::make_shared<std::atomic<bool>>(false);
  bool abandoning() const noexcept { return abandoned->load(std::memory_order_relaxed); }
};

/// A delivery the core cannot finish: back to the broker when the subscription
/// can keep it, else rejected and counted as dropped for `why`. Returns whether
/// it was lost. The caller took its `envelope::claim` (and accounts `held`).
bool give_back(subscriber_runtime& rt, envelope& env, drop_reason why);

using runtime_ptr = std::shared_ptr<subscriber_runtime>;

/// Messages a subscriber hands to one handler actor at once, with their ids.
struct handle_batch {
  std::vector<std::pair<std::uint64_t, envelope_ptr>> items;
};
using result_ptr = std::shared_ptr<call_result>;

/// The envelope a batch handler runs on: `members`' bodies as one JSON array
/// (a non-JSON body as a JSON string), the first one's headers and ids, the
/// highest attempt, and an acknowledger that settles every member (batch.cpp).
envelope_ptr make_batch(std::vector<envelope_ptr> members);

/// Spawns a handler actor linked to `parent` (its subscriber), detached when blocking.
/// What a subscriber shares with its handler actors.
struct subscriber_link {
  /// False once the subscriber ended (it then settled what no handler had taken).
  std::atomic<bool> alive{true};
  /// The driver subscription, handed over as the subscriber ends: it lives until the
  /// last handler ends, so what they finish (or give back) still reaches the broker.
  std::shared_ptr<subscription> keep;
};

caf::actor spawn_handler(caf::event_based_actor* parent, runtime_ptr rt, caf::actor subscriber,
                         std::shared_ptr<subscriber_link> link);

/// Spawns a subscriber actor linked to `parent` (it spawns its handlers and subscribes).
caf::actor spawn_subscriber(caf::event_based_actor* parent, runtime_ptr rt);

}  // namespace brook::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::detail::result_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::detail::runtime_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::delivery_trace_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::detail::handle_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::detail::query_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::middleware::admission)
