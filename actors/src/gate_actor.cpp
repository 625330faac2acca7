// The gate actor: one per `middleware::shared` instance. Handler actors ask it
// before each run (`admit`) and tell it after (`settled`); it calls the user's
// middleware one message at a time, so its state needs no locks. It monitors
// the handler actors holding admitted runs: a run whose actor dies is settled as
// abandoned, so every `proceed` gets exactly one `settled`.
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <map>
#include <unordered_map>

#include "runtime.hpp"

namespace brook::detail {

namespace {

struct gate_state {
  std::shared_ptr<middleware::shared> mw;
  std::shared_ptr<spdlog::logger> log;
  /// Admitted and not yet settled, per handler actor.
  std::map<caf::actor_addr, std::unordered_map<std::uint64_t, query_ptr>> open;
  static inline const char* name = "brook.middleware";
};

using gate_actor = caf::stateful_actor<gate_state>;

void settle(gate_actor* self, const middleware::admission_query& q, middleware::run_outcome how) {
  try {
    self->state.mw->settled(q, how);
  } catch (const std::exception& e) {
    self->state.log->error("{} | {} - shared middleware settled() threw: {}", q.channel(),
                           q.message_id(), e.what());
  }
}

caf::behavior gate_impl(gate_actor* self, std::shared_ptr<middleware::shared> mw,
                        std::shared_ptr<spdlog::logger> log) {
  self->state.mw = std::move(mw);
  self->state.log = std::move(log);
  self->set_down_handler([=](caf::down_msg& m) {
    auto& open = self->state.open;
    auto i = open.find(m.source);
    if (i == open.end())
      return;
    auto runs = std::move(i->second);
    open.erase(i);
    for (auto& [run, q] : runs)
      settle(self, *q, middleware::run_outcome::abandoned);
  });
  return {
      [=](admit_atom, query_ptr& q) -> middleware::admission {
        middleware::admission a;
        try {
          a = self->state.mw->admit(*q);
        } catch (const std::exception& e) {
          return middleware::admission::refuse(std::string{"admit() threw: "} + e.what());
        } catch (...) {
          return middleware::admission::refuse("admit() threw");
        }
        if (a.what == middleware::admission::verdict::proceed) {
          auto owner = caf::actor_cast<caf::actor_addr>(self->current_sender());
          auto [i, fresh] = self->state.open.try_emplace(owner);
          if (fresh)
            self->monitor(owner);
          i->second.emplace(q->run(), q);
        }
        return a;
      },
      [=](settled_atom, query_ptr& q, std::uint8_t how) {
        auto owner = caf::actor_cast<caf::actor_addr>(self->current_sender());
        auto i = self->state.open.find(owner);
        if (i == self->state.open.end() || i->second.erase(q->run()) == 0)
          return;  // not admitted here, or settled already (its actor's death raced)
        settle(self, *q, static_cast<middleware::run_outcome>(how));
      },
  };
}

}  // namespace

caf::actor spawn_gate(caf::actor_system& sys, std::shared_ptr<middleware::shared> mw,
                      std::shared_ptr<spdlog::logger> log) {
  return sys.spawn(gate_impl, std::move(mw), std::move(log));
}

}  // namespace brook::detail
