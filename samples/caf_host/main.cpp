// caf_host: an existing CAF application that embeds brook. It owns its actor system
// and its stock actor; brook adds a Redis subscriber whose handler is that actor, and
// the host watches brook's supervisor like any actor of its own.
//   caf_host          # serve until SIGINT/SIGTERM (needs scripts/services.sh start redis)
// BROOK_REDIS_URL selects the server (default redis://127.0.0.1:6390).
#include <brook/app.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cstdio>
#include <cstdlib>

#include "inventory.hpp"

int main() {
  brook::app::block_shutdown_signals();  // before any thread: SIGTERM drains instead of killing
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto stock = sys.spawn(inventory::stock, std::map<std::string, std::int32_t>{{"apple", 10}});

  auto* url = std::getenv("BROOK_REDIS_URL");
  brook::redis::broker broker{url ? url : "redis://127.0.0.1:6390"};
  inventory::declare(broker, stock);
  brook::app app{sys, broker, {.title = "caf_host", .version = "1.0.0"}};
  app.start();

  // The host's watcher: brook's supervisor exits with the reason when it gives up.
  // (The supervisor travels as a spawn argument: CAF 0.17 binds an empty argument
  // tuple through a null pointer, which UBSan reports.)
  auto watcher = sys.spawn(
      [](caf::event_based_actor* self, const caf::actor& sup) {
        self->monitor(sup);
        self->set_down_handler([self](caf::down_msg& m) {
          std::fprintf(stderr, "caf_host: brook gave up: %s\n",
                       self->system().render(m.reason).c_str());
          self->quit();
        });
        return caf::behavior{[](caf::ok_atom) {}};
      },
      app.supervisor());

  int rc = app.wait_for_shutdown();  // SIGINT/SIGTERM, or 70 after an escalation
  app.stop();
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(stock, caf::exit_reason::user_shutdown);
  return rc;
}
