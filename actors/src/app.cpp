// brook::app: lifecycle, signals and shutdown; the command line is app_cli.cpp,
// the AsyncAPI description app_describe.cpp.
#include <spdlog/spdlog.h>

#include <brook/app.hpp>
#include <brook/asyncapi/server.hpp>
#include <caf/actor.hpp>
#include <csignal>
#include <mutex>

#include "app_signal.hpp"
#include "broker_core.hpp"
#include "observer_fanout.hpp"

namespace brook {

app::app(broker& b, app_info info)
    : app(std::vector<std::reference_wrapper<broker>>{b}, std::move(info)) {}

app::app(std::vector<std::reference_wrapper<broker>> brokers, app_info info)
    : info_(std::move(info)),
      brokers_(std::move(brokers)),
      deps_(std::make_shared<dependency_registry>()),
      signal_(std::make_shared<shutdown_signal>()),
      watchdog_(std::make_unique<watchdog>()) {
  for (auto& b : brokers_)
    b.get().core()->app_id = info_.title;
}

app::app(caf::actor_system& sys, broker& b, app_info info)
    : app(sys, std::vector<std::reference_wrapper<broker>>{b}, std::move(info)) {}

app::app(caf::actor_system& sys, std::vector<std::reference_wrapper<broker>> brokers, app_info info)
    : app(std::move(brokers), std::move(info)) {
  external_ = &sys;
}

caf::actor app::supervisor() const {
  return rt_ ? rt_->supervisor() : caf::actor{};
}

app::~app() {
  stop();
}

app& app::on_startup(std::function<void()> f) {
  on_startup_.push_back(std::move(f));
  return *this;
}
app& app::after_startup(std::function<void()> f) {
  after_startup_.push_back(std::move(f));
  return *this;
}
app& app::on_shutdown(std::function<void()> f) {
  on_shutdown_.push_back(std::move(f));
  return *this;
}
app& app::after_shutdown(std::function<void()> f) {
  after_shutdown_.push_back(std::move(f));
  return *this;
}
app& app::observe(observer_ptr o) {
  observers_.push_back(std::move(o));
  obs_ = detail::combine(observers_);
  return *this;
}

app& app::middleware(middleware_ptr m) {
  mws_.push_back(std::move(m));
  return *this;
}

bool app::running() const noexcept {
  return signal_->running;
}
bool app::ready() const noexcept {
  return signal_->ready && rt_ && rt_->subscriptions_ready();
}

std::vector<detail::subscriber_snapshot> app::stats() const {
  return rt_ ? rt_->stats() : final_stats_;
}

std::vector<detail::connection_snapshot> app::connections() const {
  return rt_ ? rt_->connections() : final_connections_;
}

void app::start(run_options o) {
  if (signal_->running)
    return;
  opts_ = o;
  set_log_format(o.log_format);
  set_log_levels(o.log_level);
  for (auto& f : on_startup_)
    f();
  rt_ = external_ ? std::make_unique<detail::runtime>(*external_)
                  : std::make_unique<detail::runtime>(o.workers, o.idle_polls);
  rt_->set_drain_budget(o.graceful_timeout);
  rt_->set_observer(obs_);
  if (obs_)
    obs_->started(*this);
  auto sig = signal_;
  rt_->on_escalation([sig](std::string) {
    sig->ready = false;
    sig->exit_code = 70;  // EX_SOFTWARE: a supervisor gave up
    std::lock_guard lock{sig->mtx};
    sig->requested = true;
    sig->cv.notify_all();
  });
  try {
    for (auto& b : brokers_)
      rt_->start_broker(b.get(), mws_, deps_);
  } catch (...) {
    if (obs_)
      obs_->stopped(*this);
    rt_->stop(std::chrono::milliseconds{0});
    rt_.reset();
    throw;
  }
  signal_->running = true;
  signal_->ready = true;
  if (o.http_port) {
    try {
      start_http();
    } catch (const std::exception& e) {
      stop();
      throw std::runtime_error("the HTTP endpoint cannot listen on " + o.http_host + ":" +
                               std::to_string(*o.http_port) + ": " + e.what() +
                               " (choose another --http-port)");
    }
  }
  for (auto& f : after_startup_)
    f();
  default_logger()->info("{} {} started", info_.title, info_.version);
}

void app::request_stop() {
  std::lock_guard lock{signal_->mtx};
  signal_->requested = true;
  signal_->cv.notify_all();
}

namespace {
std::atomic<bool> signals_blocked{false};
}  // namespace

void app::block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signals_blocked = true;
}

int app::wait_for_shutdown() {
  auto& s = *signal_;
  if (s.use_signals || signals_blocked) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec tick{0, 100'000'000};
    for (;;) {
      {
        std::lock_guard lock{s.mtx};
        if (s.requested)
          break;
      }
      siginfo_t si;
      if (sigtimedwait(&set, &si, &tick) > 0) {
        default_logger()->info("received signal {}, draining", si.si_signo);
        break;
      }
    }
  } else {
    std::unique_lock lock{s.mtx};
    s.cv.wait(lock, [&] { return s.requested; });
  }
  return s.exit_code;
}

void app::stop() {
  if (!signal_->running.exchange(false))
    return;
  signal_->ready = false;
  for (auto& f : on_shutdown_)
    f();
  if (!rt_->stop(opts_.graceful_timeout))
    default_logger()->warn(
        "graceful timeout of {} ms passed with messages still in flight; "
        "those with acks were returned to their broker, the others are "
        "counted as dropped (stopped) in stats()",
        opts_.graceful_timeout.count());
  final_stats_ = rt_->stats();
  final_connections_ = rt_->connections();
  // The endpoint answered through the drain (ready: false); it reads the runtime, so it
  // stops before the runtime goes.
  if (http_) {
    http_->stop();
    http_.reset();
  }
  if (obs_)
    obs_->stopped(*this);  // before the runtime goes: a scrape in progress may still read it
  rt_.reset();
  for (auto& f : after_shutdown_)
    f();
  default_logger()->info("{} stopped", info_.title);
}

}  // namespace brook
