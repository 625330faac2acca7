#pragma once
/// @file
/// `brook::app`: the service. It owns the actor system (or joins a user's),
/// starts its brokers, runs lifespan hooks, turns SIGINT/SIGTERM into a
/// graceful drain, and gives every service the same command line.
///
/// @code
/// int main(int argc, char** argv) {
///   brook::memory::broker broker;
///   brook::app app{broker, {.title = "greeter", .version = "1.0.0"}};
///   broker.subscriber("user-created").publisher("greetings")
///         .handle([](const user_created& u) -> greeting { return {"Hello, " + u.username}; });
///   return app.run(argc, argv);   // run | docs gen | docs serve | publish | --version
/// }
/// @endcode
/// Embedding in an existing CAF system: `brook::app app{sys, broker}; app.start(); ... app.stop();`
#include <brook/asyncapi/spec.hpp>
#include <brook/broker.hpp>
#include <brook/detail/runtime.hpp>
#include <brook/middleware.hpp>
#include <brook/observer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caf {
class actor_system;
class actor;
}  // namespace caf

namespace brook::asyncapi {
class http_server;
}

namespace brook {

/// Shown by `--version` and in AsyncAPI `info`.
struct app_info {
  std::string title = "brook service";
  std::string identifier;  ///< AsyncAPI `id`, e.g. `urn:example:greeter`
  std::string version = "0.1.0";
  std::string description;
  std::string contact_name, contact_url, contact_email;
  std::string license_name, license_url;
  std::vector<std::string> tags;
};

/// Run-time settings; the CLI's `run` options fill them.
struct run_options {
  std::size_t workers = 0;  ///< scheduler threads; 0 = CAF default
  /// How many times an idle scheduler thread looks for work before it sleeps
  /// (`--idle-polls`). More answer a lone message sooner (no wake-up: about 20 µs less per
  /// hop on a NATS ping-pong on a 2-core VM) and keep a core busy for that long after each
  /// lone message (100,000 polls cost about 0.3 ms of CPU there, 1,000,000 about 3 ms).
  std::size_t idle_polls = 2000;
  std::chrono::milliseconds graceful_timeout{10000};  ///< drain budget on stop
  /// `LEVEL` for every brook logger, then `NAME=LEVEL` entries, comma-separated
  /// (`"info,brook.access=warn"`; loggers: `brook`, `brook.access`, `brook.broker`).
  std::string log_level = "info";
  std::string log_format = "text";  ///< `text` or `json` (`--log-format`)
  /// While running, serve `/health`, `/ready`, `/metrics` and the AsyncAPI page (`/docs/`) on
  /// this port (`--http-port`, `BROOK_HTTP_PORT`); 0 picks a free one (`app::http_port()`).
  /// Unset: no HTTP endpoint.
  std::optional<unsigned short> http_port;
  std::string http_host = "0.0.0.0";  ///< where the endpoint binds (`--http-host`)
  /// Liveness fails when a subscriber holds messages and none finished for this long.
  std::chrono::seconds stall_after{300};
};

class app {
public:
  app(broker& b, app_info info = {});
  app(std::vector<std::reference_wrapper<broker>> brokers, app_info info = {});
  /// Embedding: runs on `sys`, which must outlive the app.
  app(caf::actor_system& sys, broker& b, app_info info = {});
  /// Embedding with several brokers (Redis and the in-memory broker, two Redis servers, ...).
  app(caf::actor_system& sys, std::vector<std::reference_wrapper<broker>> brokers,
      app_info info = {});
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  /// Lifespan hooks, in this order: on_startup, (brokers start), after_startup,
  /// ... on_shutdown, (drain and stop), after_shutdown. A throwing start-up
  /// hook aborts the start.
  app& on_startup(std::function<void()> f);
  app& after_startup(std::function<void()> f);
  app& on_shutdown(std::function<void()> f);
  app& after_shutdown(std::function<void()> f);

  /// Reports what the app's actors do to `o` (telemetry: `brook::telemetry::metrics`,
  /// `brook::telemetry::tracing`), from the next start on. Each call adds one: every
  /// observer hears everything (the first that traces a message owns its span).
  /// @code
  /// brook::telemetry::metrics metrics{{.app_name = "greeter"}};
  /// brook::telemetry::tracing tracing{{.service_name = "greeter"}};
  /// app.observe(metrics.observer()).observe(tracing.observer());
  /// @endcode
  app& observe(observer_ptr o);
  const observer_ptr& observer() const noexcept { return obs_; }

  /// App-wide middlewares wrap the brokers' and routers' ones.
  app& middleware(middleware_ptr m);
  template <class T>
  app& provide(std::shared_ptr<T> instance) {
    deps_->provide<T>(std::move(instance));
    return *this;
  }
  template <class T, class F>
  app& provide_scoped(F f) {
    deps_->provide_scoped<T>(std::move(f));
    return *this;
  }

  /// The command line: `run` (default), `docs gen`, `docs serve`, `publish`.
  /// Returns the process exit code.
  int run(int argc, char** argv);

  /// Starts without blocking (embedding, tests). Throws on declaration errors.
  void start(run_options o = {});
  /// Blocks until stop() is called, a signal arrives or supervision escalates.
  /// Returns the exit code (0, or 70 after an escalation). SIGINT/SIGTERM count
  /// under `run`, or after `block_shutdown_signals()`.
  int wait_for_shutdown();
  /// Embedding: makes SIGINT/SIGTERM a graceful stop through `wait_for_shutdown()`
  /// instead of killing the process. Call it first in `main`, before the actor
  /// system exists: it blocks the signals in the calling thread, and only threads
  /// started afterwards inherit that.
  /// @code
  /// int main() {
  ///   brook::app::block_shutdown_signals();
  ///   caf::actor_system sys{cfg};
  ///   ...
  ///   app.start();
  ///   int rc = app.wait_for_shutdown();  // returns on SIGTERM
  ///   app.stop();
  /// }
  /// @endcode
  static void block_shutdown_signals();
  /// Graceful stop: on_shutdown, drain, close, after_shutdown. Idempotent.
  void stop();
  /// Asks a blocked wait_for_shutdown() to return (thread-safe).
  void request_stop();

  bool running() const noexcept;
  /// True while running with every subscription confirmed by its broker;
  /// false before, while a broker is unreachable at start, and after escalation.
  bool ready() const noexcept;
  /// Liveness: running, supervision has not given up, the supervisor actor answers within
  /// a second (the scheduler makes progress), and no subscriber holds messages while none
  /// finished for `run_options::stall_after`. `why` (if given) says what failed.
  bool healthy(std::string* why = nullptr) const;
  /// The port of the HTTP endpoint (`run_options::http_port`), 0 when there is none.
  unsigned short http_port() const noexcept;
  /// Per-subscriber counters: received, processed, acked, nacked, rejected,
  /// dead-lettered, retried and drops by reason (see `detail::subscriber_snapshot`).
  /// After stop(), the last counters of the run.
  std::vector<detail::subscriber_snapshot> stats() const;
  /// Per broker: connected or not, and the connection events its driver reported
  /// (connects, losses, stalls, fatal errors, restarts; see `detail::connection_snapshot`).
  /// After stop(), the last state of the run.
  std::vector<detail::connection_snapshot> connections() const;

  /// The AsyncAPI description of this service.
  asyncapi::service_spec describe() const;
  const app_info& info() const noexcept { return info_; }
  const std::vector<std::reference_wrapper<broker>>& brokers() const noexcept { return brokers_; }
  /// Null before start().
  detail::runtime* runtime() noexcept { return rt_.get(); }

  /// Embedding: the actor that supervises every subscriber (include
  /// <caf/actor.hpp> to use it). Monitor or link it from your own actors: when
  /// supervision gives up (a subscriber or a connection failed too often) it first
  /// drains the other subscribers, then exits with a `caf::sec::runtime_error` whose
  /// text says why, so the host gets a down or exit message. Invalid before
  /// start() and after stop().
  /// @code
  /// app.start();
  /// self->monitor(app.supervisor());
  /// self->set_down_handler([&](caf::down_msg& m) { /* brook gave up: m.reason */ });
  /// @endcode
  caf::actor supervisor() const;

private:
  int cmd_publish(const std::string& channel, const std::string& body, bool request,
                  double timeout_s, const std::vector<std::string>& headers);

  app_info info_;
  std::vector<std::reference_wrapper<broker>> brokers_;
  caf::actor_system* external_ = nullptr;
  std::unique_ptr<detail::runtime> rt_;
  std::shared_ptr<dependency_registry> deps_;
  std::vector<middleware_ptr> mws_;
  std::vector<std::function<void()>> on_startup_, after_startup_, on_shutdown_, after_shutdown_;
  run_options opts_;
  std::vector<detail::subscriber_snapshot> final_stats_;  ///< kept after stop()
  std::vector<detail::connection_snapshot> final_connections_;
  struct shutdown_signal;
  std::shared_ptr<shutdown_signal> signal_;
  std::vector<observer_ptr> observers_;
  observer_ptr obs_;  ///< `observers_` as one
  std::unique_ptr<asyncapi::http_server> http_;
  struct watchdog;
  std::unique_ptr<watchdog> watchdog_;
  void start_http();
  /// `run --workers N`: N worker processes of this program under this one (app_fleet.cpp).
  int run_fleet(int argc, char** argv, std::size_t workers, const run_options& o);
};

}  // namespace brook
