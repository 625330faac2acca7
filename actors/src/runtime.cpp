// The runtime: actor system ownership, the supervisor of subscriber actors,
// start-up checks and graceful drain.
#include "runtime.hpp"

#include <algorithm>
#include <brook/broker.hpp>
#include <brook/detail/runtime.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace brook::detail {

namespace {

/// CAF 0.17 keeps a reference to the system's logger in a thread-local of
/// every thread that spawned an actor or used a scoped_actor, and
/// ~actor_system waits for that logger to die: destroying the system on
/// another thread then hangs. Brook drops the reference after each use.
struct logger_tls_guard {
  ~logger_tls_guard() { caf::logger::set_current_actor_system(nullptr); }
};

using add_atom = caf::atom_constant<caf::atom("add")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using escalate_atom = caf::atom_constant<caf::atom("escalate")>;

struct child {
  std::uint64_t id = 0;
  runtime_ptr rt;
  std::deque<caf::actor_clock::time_point> restarts;
};

struct supervisor_state {
  std::vector<std::pair<caf::actor, std::shared_ptr<child>>> children;
  std::function<void(std::string)> escalate;
  std::chrono::milliseconds drain_budget{10000};
  bool stopping = false;
  bool escalated = false;
  std::uint64_t next_id = 0;
  static inline const char* name = "brook.supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

// One-for-one: a subscriber that dies is respawned (it re-subscribes; the
// broker redelivers what it had not settled) with backoff, up to
// max_restarts within restart_window; beyond that the app escalates.
/// Gives up: tells the runtime, drains every live subscriber (what they hold
/// finishes, the rest stays on the broker), then exits with the reason, so a host
/// that monitors or links the supervisor sees a down/exit message.
void give_up(supervisor_actor* self, std::string why) {
  auto& st = self->state;
  if (st.escalated)
    return;
  st.escalated = true;
  st.stopping = true;
  if (st.escalate)
    st.escalate(why);
  auto reason = caf::make_error(caf::sec::runtime_error, "brook: " + why);
  auto left = std::make_shared<std::size_t>(0);
  for (auto& [a, c] : st.children)
    if (a)
      ++*left;
  if (*left == 0) {
    self->quit(reason);
    return;
  }
  auto one_done = [self, left, reason] {
    if (--*left == 0)
      self->quit(reason);
  };
  for (auto& [a, c] : st.children)
    if (a)
      self->request(a, caf::timespan{st.drain_budget}, drain_atom::value)
          .then([one_done](caf::ok_atom) { one_done(); }, [one_done](caf::error&) { one_done(); });
}

caf::behavior supervisor_impl(supervisor_actor* self, std::function<void(std::string)> escalate,
                              std::chrono::milliseconds drain_budget) {
  self->state.escalate = std::move(escalate);
  self->state.drain_budget = drain_budget;
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    auto it = std::find_if(st.children.begin(), st.children.end(),
                           [&](auto& c) { return c.first.address() == msg.source; });
    if (it == st.children.end()) {
      st.stopping = true;
      self->quit(msg.reason);
      return;
    }
    auto c = it->second;
    st.children.erase(it);
    if (st.stopping || !msg.reason || msg.reason == caf::exit_reason::user_shutdown)
      return;
    auto& rt = *c->rt;
    auto now = self->clock().now();
    auto& policy = rt.decl->options.restarts;
    while (!c->restarts.empty() && now - c->restarts.front() > policy.window)
      c->restarts.pop_front();
    if (c->restarts.size() >= policy.max_restarts) {
      auto why = "subscriber '" + rt.decl->spec.address + "' failed " +
                 std::to_string(c->restarts.size() + 1) + " times within " +
                 std::to_string(policy.window.count()) + " ms; giving up (" +
                 self->system().render(msg.reason) + ")";
      rt.log->critical("{}", why);
      give_up(self, std::move(why));
      return;
    }
    c->restarts.push_back(now);
    ++rt.stats->restarts;
    rt.log->error("{} - subscriber died ({}); restarting", rt.decl->spec.address,
                  self->system().render(msg.reason));
    self->delayed_send(self, policy.backoff.delay(c->restarts.size(), random01()),
                       restart_atom::value, c->id);
    st.children.emplace_back(caf::actor{}, c);
  });
  return {
      [=](add_atom, runtime_ptr& rt) {
        auto c = std::make_shared<child>();
        c->id = ++self->state.next_id;
        c->rt = rt;
        auto a = spawn_subscriber(self, rt);
        self->state.children.emplace_back(a, c);
      },
      [=](restart_atom, std::uint64_t key) {
        for (auto& [a, c] : self->state.children)
          if (!a && c->id == key && !self->state.stopping)
            a = spawn_subscriber(self, c->rt);
      },
      [=](escalate_atom, std::string& why) { give_up(self, std::move(why)); },
      [=](list_atom) {
        std::vector<caf::actor> xs;
        for (auto& [a, c] : self->state.children)
          if (a)
            xs.push_back(a);
        return xs;
      },
  };
}

}  // namespace

struct runtime::impl {
  observer_ptr obs;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> own;
  caf::actor_system* sys = nullptr;
  caf::actor supervisor;
  std::vector<broker*> brokers;
  struct connection {
    broker* b;
    caf::actor actor;
    std::shared_ptr<connection_stats> stats;
  };
  std::vector<connection> connections;  // guarded by mtx
  std::vector<runtime_ptr> subscribers;
  /// One actor per shared middleware instance, whichever chains it is in.
  std::unordered_map<const middleware::shared*, caf::actor> gates;
  mutable std::mutex mtx;
  std::function<void(std::string)> on_escalation;
  std::atomic<bool> escalated{false};
  std::chrono::milliseconds drain_budget{10000};
  bool stopped = false;
  /// Shared with every subscriber runtime: the stop's drain ran out of time.
  std::shared_ptr<std::atomic<bool>> abandoned = std::make_shared<std::atomic<bool>>(false);
};

runtime::runtime(std::size_t workers, std::size_t idle_polls) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::make_unique<caf::actor_system_config>();
  if (workers > 0)
    impl_->cfg->set("scheduler.max-threads", workers);
  // CAF's default idle strategy sleeps 50 us between polls for a while before
  // it parks on a condition variable; a message arriving then waits out the
  // sleep. Spin briefly, then park (the enqueue notifies a parked worker).
  impl_->cfg->set("work-stealing.aggressive-poll-attempts",
                  static_cast<std::int64_t>(std::max<std::size_t>(idle_polls, 1)));
  impl_->cfg->set("work-stealing.moderate-poll-attempts", 0);
  impl_->cfg->set("work-stealing.relaxed-sleep-duration",
                  caf::timespan{std::chrono::milliseconds{100}});
  logger_tls_guard tls;
  impl_->own = std::make_unique<caf::actor_system>(*impl_->cfg);
  impl_->sys = impl_->own.get();
}

runtime::runtime(caf::actor_system& sys) : impl_(std::make_unique<impl>()) {
  impl_->sys = &sys;
}

runtime::~runtime() {
  stop(std::chrono::milliseconds{0});
}

caf::actor_system& runtime::system() {
  return *impl_->sys;
}

void runtime::on_escalation(std::function<void(std::string)> f) {
  std::lock_guard lock{impl_->mtx};
  impl_->on_escalation = std::move(f);
}

bool runtime::escalated() const noexcept {
  return impl_->escalated;
}

void runtime::set_drain_budget(std::chrono::milliseconds budget) {
  impl_->drain_budget = budget;
}

caf::actor runtime::supervisor() const {
  std::lock_guard lock{impl_->mtx};
  return impl_->supervisor;
}

void runtime::start_broker(broker& b, const std::vector<middleware_ptr>& outer,
                           std::shared_ptr<dependency_registry> deps) {
  auto& im = *impl_;
  logger_tls_guard tls;
  auto escalate = [this](std::string why) {
    impl_->escalated = true;
    std::function<void(std::string)> f;
    {
      std::lock_guard lock{impl_->mtx};
      f = impl_->on_escalation;
    }
    if (f)
      f(std::move(why));
  };
  if (!im.supervisor)
    im.supervisor = im.sys->spawn(supervisor_impl, escalate, im.drain_budget);
  // A connection that gives up escalates through the supervisor like a subscriber does.
  auto escalate_via_supervisor =
      [sup = caf::actor_cast<caf::actor_addr>(im.supervisor)](std::string why) {
        if (auto a = caf::actor_cast<caf::actor>(sup))
          caf::anon_send(a, escalate_atom::value, std::move(why));
      };
  if (deps)
    b.dependencies()->set_parent(std::move(deps));
  auto core = b.core();
  core->obs = im.obs;
  core->protocol = std::string{core->get_transport()->protocol()};
  core->publish_chain.assign(outer.begin(), outer.end());
  core->publish_chain.insert(core->publish_chain.end(), b.middlewares().begin(),
                             b.middlewares().end());
  std::vector<runtime_ptr> prepared;
  for (auto& d : b.subscriber_decls()) {
    if (d->handlers.empty())
      throw std::invalid_argument("subscriber '" + d->spec.address +
                                  "' has no handler: call .handle(...) on it");
    for (auto& h : d->handlers) {
      if (d->options.batch > 0 && !h.handler->info().takes_batch)
        throw std::invalid_argument("handler " + d->name + " on '" + d->spec.address +
                                    "' is a batch subscriber (.batch(" +
                                    std::to_string(d->options.batch) +
                                    ")) but its body is not a list: take std::vector<T> (or "
                                    "boost::json::value)");
      for (auto& [type, name] : h.handler->info().deps)
        if (!d->deps->has(type))
          throw std::invalid_argument("handler " + d->name + " on '" + d->spec.address +
                                      "' needs brook::dep<" + name +
                                      "> but nothing provides it: call provide<" + name +
                                      ">(...) on the app, broker or router");
    }
    auto rt = std::make_shared<subscriber_runtime>();
    rt->decl = d;
    rt->abandoned = im.abandoned;
    rt->core = core;
    rt->log = access_logger();
    rt->chain = outer;
    rt->chain.insert(rt->chain.end(), b.middlewares().begin(), b.middlewares().end());
    rt->chain.insert(rt->chain.end(), d->middlewares.begin(), d->middlewares.end());
    for (auto& m : rt->chain) {
      m->configure(rt->policies);
      if (auto* a = dynamic_cast<middleware::around*>(m.get()))
        rt->scopes.push_back(a);
      if (auto sh = std::dynamic_pointer_cast<middleware::shared>(m)) {
        auto& g = im.gates[sh.get()];
        if (!g)
          g = spawn_gate(*im.sys, sh, core->log);
        rt->gates.push_back(g);
      }
    }
    if (d->options.retry)
      rt->policies.retry = d->options.retry;
    if (d->dead_letter)
      rt->policies.dead_letter = d->dead_letter;
    if (d->retry_through)
      rt->policies.retry_through = d->retry_through;
    if (d->options.timeout.count() > 0)
      rt->policies.timeout = d->options.timeout;
    rt->has_path_params = d->spec.address.find('{') != std::string::npos;
    if (im.obs)
      rt->probe = im.obs->subscription({.broker = core->get_transport()->protocol(),
                                        .handler = d->spec.address,
                                        .labels = d->labels});
    // The driver's own rules, before anything starts: a bad declaration fails here.
    auto spec = d->spec;
    if (rt->has_path_params) {
      spec.address = wildcard_address(spec.address);
      spec.pattern = true;
    }
    if (auto err = core->get_transport()->validate(spec))
      throw std::invalid_argument("subscriber " + d->name + " on '" + d->spec.address +
                                  "': " + err.message);
    prepared.push_back(rt);
  }
  auto conn_stats = std::make_shared<connection_stats>();
  auto conn = spawn_connection(*im.sys, core, conn_stats, escalate_via_supervisor);
  {
    std::lock_guard lock{im.mtx};
    im.connections.push_back({&b, conn, conn_stats});
  }
  bool reachable = true;
  if (auto err = core->get_transport()->start()) {
    if (!is_retryable(err.code))
      throw std::runtime_error("broker " + b.server().url + ": " + err.to_string());
    // Not up yet: the driver keeps connecting; readiness stays false until it does.
    reachable = false;
    core->log->warn(
        "broker {}: {}; the service starts and connects when the broker is up "
        "(ready() is false until then)",
        b.server().url, err.to_string());
  }
  for (auto& rt : prepared) {
    caf::anon_send(im.supervisor, add_atom::value, rt);
    std::lock_guard lock{im.mtx};
    im.subscribers.push_back(rt);
  }
  im.brokers.push_back(&b);
  // Wait until every subscription exists, so a publish right after start finds it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{reachable ? 10 : 0};
  for (auto& rt : prepared)
    while (!rt->subscribed && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds{200});
  for (auto& rt : prepared)
    if (!rt->subscribed && reachable)
      throw std::runtime_error("subscriber '" + rt->decl->spec.address +
                               "' did not subscribe within 10 s");
}

bool runtime::subscriptions_ready() const {
  std::lock_guard lock{impl_->mtx};
  for (auto& rt : impl_->subscribers)
    if (!rt->subscribed)
      return false;
  for (auto& b : impl_->brokers)
    if (!b->core()->get_transport()->connected())
      return false;
  for (auto& c : impl_->connections)
    if (c.stats->down)
      return false;
  return true;
}

std::vector<connection_snapshot> runtime::connections() const {
  std::lock_guard lock{impl_->mtx};
  std::vector<connection_snapshot> out;
  for (auto& c : impl_->connections) {
    auto& s = *c.stats;
    auto t = c.b->core()->get_transport();
    out.push_back({.url = t->url(),
                   .protocol = std::string{t->protocol()},
                   .up = !s.down && t->connected(),
                   .connects = s.connects,
                   .losses = s.losses,
                   .stalls = s.stalls,
                   .fatals = s.fatals,
                   .restarts = s.restarts,
                   .last_error = s.get_last_error(),
                   .publish_window = c.b->core()->window.limit(),
                   .publish_in_flight = c.b->core()->window.in_flight(),
                   .publish_max_in_flight = c.b->core()->window.max_seen(),
                   .publish_waited = c.b->core()->window.waited()});
  }
  return out;
}

namespace {
/// The subscriber `s`'s address and its handler actors (empty when it does not answer).
std::pair<std::string, std::vector<caf::actor>> handlers_of(caf::scoped_actor& self,
                                                            const caf::actor& s) {
  std::pair<std::string, std::vector<caf::actor>> out;
  self->request(s, std::chrono::seconds{5}, handlers_atom::value)
      .receive(
          [&](std::string& a, std::vector<caf::actor>& xs) {
            out = {std::move(a), std::move(xs)};
          },
          [](caf::error&) {});
  return out;
}
}  // namespace

bool runtime::stop(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (im.stopped || !im.supervisor)
    return true;
  im.stopped = true;
  bool drained = true;
  {
    logger_tls_guard tls;
    caf::scoped_actor self{*im.sys};
    std::vector<caf::actor> subs;
    self->request(im.supervisor, std::chrono::seconds{5}, list_atom::value)
        .receive([&](std::vector<caf::actor>& xs) { subs = std::move(xs); }, [](caf::error&) {});
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& s : subs) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        left = std::chrono::milliseconds{1};
      self->request(s, left, drain_atom::value)
          .receive([](caf::ok_atom) {}, [&](caf::error&) { drained = false; });
    }
    // What is still in flight is given back (or counted) by whoever holds it; the
    // handlers start nothing more.
    std::vector<caf::actor> handlers;
    if (!drained) {
      im.abandoned->store(true, std::memory_order_relaxed);
      for (auto& s : subs) {
        auto hs = handlers_of(self, s).second;
        handlers.insert(handlers.end(), hs.begin(), hs.end());
      }
    }
    self->send_exit(im.supervisor, caf::exit_reason::user_shutdown);
    self->wait_for(im.supervisor);
    // A handler still running a message finishes it (nothing can interrupt it) and
    // settles it while the connections are open; the rest it gave back.
    for (auto& h : handlers)
      self->wait_for(h);
  }
  im.supervisor = caf::actor{};
  {
    // No restart may begin while the transports close.
    std::vector<caf::actor> actors;
    {
      std::lock_guard lock{im.mtx};
      for (auto& c : im.connections)
        actors.push_back(c.actor);
    }
    logger_tls_guard tls;
    caf::scoped_actor self{*im.sys};
    for (auto& a : actors) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
  }
  {
    logger_tls_guard tls;
    caf::scoped_actor self{*im.sys};
    for (auto& [mw, a] : im.gates) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
    im.gates.clear();
  }
  for (auto* b : im.brokers)
    b->core()->get_transport()->close();
  im.brokers.clear();
  return drained;
}

void runtime::set_observer(observer_ptr obs) {
  impl_->obs = std::move(obs);
}

bool runtime::alive(std::chrono::milliseconds timeout) const {
  auto& im = *impl_;
  if (!im.supervisor)
    return false;
  logger_tls_guard tls;
  caf::scoped_actor self{*im.sys};
  bool answered = false;
  self->request(im.supervisor, timeout, list_atom::value)
      .receive([&](std::vector<caf::actor>&) { answered = true; }, [](caf::error&) {});
  return answered;
}

std::vector<subscriber_snapshot> runtime::stats() const {
  std::lock_guard lock{impl_->mtx};
  std::vector<subscriber_snapshot> out;
  for (auto& rt : impl_->subscribers) {
    auto& s = *rt->stats;
    subscriber_snapshot x;
    x.address = rt->decl->spec.address;
    x.protocol = std::string{rt->core->get_transport()->protocol()};
    x.labels = rt->decl->labels;
    x.subscribed = rt->subscribed;
    x.received = s.received;
    x.processed = s.processed;
    x.failed = s.failed;
    x.rejected = s.rejected;
    x.nacked = s.nacked;
    x.decode_errors = s.decode_errors;
    x.restarts = s.restarts;
    x.acked = s.acked;
    x.retried = s.retried;
    x.dead_lettered = s.dead_lettered;
    x.skipped = s.skipped;
    x.gaps = s.gaps;
    x.interruptions = s.interruptions;
    x.in_flight = s.in_flight;
    x.max_in_flight_seen = s.max_in_flight_seen;
    x.held = static_cast<std::size_t>(std::max<std::int64_t>(0, s.held.load()));
    for (std::size_t r = 0; r < drop_reason_count; ++r)
      if (auto n = s.dropped[r].load())
        x.dropped.emplace(std::string{to_string(static_cast<drop_reason>(r))}, n);
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<caf::actor> runtime::handler_actors(std::string_view address) const {
  auto& im = *impl_;
  std::vector<caf::actor> out;
  if (!im.supervisor)
    return out;
  logger_tls_guard tls;
  caf::scoped_actor self{*im.sys};
  std::vector<caf::actor> subs;
  self->request(im.supervisor, std::chrono::seconds{5}, list_atom::value)
      .receive([&](std::vector<caf::actor>& xs) { subs = std::move(xs); }, [](caf::error&) {});
  for (auto& s : subs) {
    auto [addr, hs] = handlers_of(self, s);
    if (addr == address)
      out.insert(out.end(), hs.begin(), hs.end());
  }
  return out;
}

}  // namespace brook::detail
