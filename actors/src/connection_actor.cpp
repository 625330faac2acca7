// The connection actor: one per transport. It receives the driver's connection
// events (connected, lost, stalled, fatal), logs and counts them, keeps the state
// readiness reads, and restarts a transport after a fatal error under the
// broker's restart policy, escalating when that gives up or the driver cannot.
#include <brook/policy.hpp>
#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <deque>
#include <string>

#include "runtime.hpp"

namespace brook {

std::string_view to_string(connection_event::kind k) noexcept {
  using k_t = connection_event::kind;
  switch (k) {
    case k_t::connected: return "connected";
    case k_t::restored: return "restored";
    case k_t::lost: return "lost";
    case k_t::stalled: return "stalled";
    case k_t::fatal: return "fatal";
  }
  return "unknown";
}

}  // namespace brook

namespace brook::detail {

namespace {

using event_atom = caf::atom_constant<caf::atom("connevent")>;

struct connection_state {
  std::shared_ptr<broker_core> core;
  std::shared_ptr<connection_stats> stats;
  std::function<void(std::string)> escalate;
  restart_policy policy;
  std::deque<caf::actor_clock::time_point> restarts;
  caf::actor_clock::time_point down_since{};  ///< while `stats->down`
  static inline const char* name = "brook.connection";
};

using connection_actor = caf::stateful_actor<connection_state>;

/// Forwards the driver's events (on its threads) to the actor as messages. Holds
/// the actor weakly: the transport owns this observer, the actor's state owns the
/// transport.
class forwarding_observer final : public connection_observer {
public:
  explicit forwarding_observer(caf::actor_addr a) : addr_(std::move(a)) {}
  void on_event(connection_event e) override {
    if (auto a = caf::actor_cast<caf::actor>(addr_))
      caf::anon_send(a, event_atom::value, static_cast<std::uint8_t>(e.what),
                     static_cast<int>(e.why.code), std::move(e.why.message));
  }

private:
  caf::actor_addr addr_;
};

std::string url_of(const connection_state& st) {
  return st.core->get_transport()->url();
}

void fatal(connection_actor* self, const error_info& why) {
  auto& st = self->state;
  auto now = self->clock().now();
  while (!st.restarts.empty() && now - st.restarts.front() > st.policy.window)
    st.restarts.pop_front();
  if (why.code == errc::unsupported || st.restarts.size() >= st.policy.max_restarts) {
    auto msg = "broker " + url_of(st) + ": connection failed for good (" + why.to_string() + ")" +
               (why.code == errc::unsupported
                    ? ""
                    : "; " + std::to_string(st.restarts.size()) + " restarts within " +
                          std::to_string(st.policy.window.count()) + " ms; giving up");
    st.core->log->critical("{}", msg);
    if (st.escalate)
      st.escalate(msg);
    return;
  }
  st.restarts.push_back(now);
  auto delay = st.policy.backoff.delay(st.restarts.size(), random01());
  st.core->log->error("broker {}: fatal connection error ({}); restarting the transport in {} ms",
                      url_of(st), why.to_string(), delay.count());
  self->delayed_send(self, delay, restart_atom::value);
}

caf::behavior connection_impl(connection_actor* self, std::shared_ptr<broker_core> core,
                              std::shared_ptr<connection_stats> stats,
                              std::function<void(std::string)> escalate) {
  auto& st = self->state;
  st.core = std::move(core);
  st.stats = std::move(stats);
  st.escalate = std::move(escalate);
  return {
      [=](event_atom, std::uint8_t what, int code, std::string& message) {
        using k = connection_event::kind;
        auto& s = self->state;
        auto kind = static_cast<k>(what);
        error_info why{static_cast<errc>(code), std::move(message)};
        auto& log = *s.core->log;
        switch (kind) {
          case k::connected:
          case k::restored: {
            ++s.stats->connects;
            if (s.stats->down.exchange(false)) {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() -
                                                                              s.down_since);
              log.info("broker {}: connection restored after {} ms", url_of(s), ms.count());
            }
            return;
          }
          case k::lost: ++s.stats->losses; break;
          case k::stalled: ++s.stats->stalls; break;
          case k::fatal: ++s.stats->fatals; break;
        }
        if (!s.stats->down.exchange(true))
          s.down_since = self->clock().now();
        s.stats->set_last_error(why.to_string());
        if (kind == k::fatal)
          fatal(self, why);
        else
          log.warn("broker {}: connection {} ({}); the driver reconnects with backoff", url_of(s),
                   to_string(kind), why.message);
      },
      [=](restart_atom) {
        auto& s = self->state;
        ++s.stats->restarts;
        if (auto err = s.core->get_transport()->restart())
          fatal(self, err);
      },
  };
}

}  // namespace

caf::actor spawn_connection(caf::actor_system& sys, std::shared_ptr<broker_core> core,
                            std::shared_ptr<connection_stats> stats,
                            std::function<void(std::string)> escalate) {
  auto t = core->get_transport();
  auto a = sys.spawn(connection_impl, std::move(core), std::move(stats), std::move(escalate));
  t->observe(std::make_shared<forwarding_observer>(a.address()));
  return a;
}

}  // namespace brook::detail
