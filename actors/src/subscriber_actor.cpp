// The subscriber actor: credit window, dispatch to handler actors, their
// restarts, graceful drain, and what happens to deliveries it cannot finish.
#include <algorithm>
#include <brook/detail/adaptive_mutex.hpp>
#include <brook/message.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "runtime.hpp"

namespace brook::detail {

namespace {

// -- subscriber actor ------------------------------------------------------------

/// Collects deliveries and wakes the subscriber once per batch: while it has
/// not yet picked up what arrived, later deliveries join the same batch
/// instead of costing a mailbox message each.
class actor_sink final : public delivery_sink {
public:
  actor_sink(caf::actor target, runtime_ptr rt) : target_(std::move(target)), rt_(std::move(rt)) {}
  void deliver(envelope_ptr env) override {
    caf::actor wake;
    {
      std::lock_guard lock{mtx_};
      if (!target_) {
        // The subscriber is gone (stopped, or restarting): nobody can take it.
        lost_after_reset(*env);
        return;
      }
      queue_.push_back(std::move(env));
      ++rt_->stats->held;
      if (!scheduled_) {
        scheduled_ = true;
        wake = target_;
      }
    }
    if (wake)
      caf::anon_send(wake, deliver_atom::value);
  }
  void failed(error_info err) override {
    caf::actor target;
    {
      std::lock_guard lock{mtx_};
      target = target_;
    }
    if (target)
      caf::anon_send(target, failed_atom::value, err.to_string());
  }
  void subscribed() override {
    if (!rt_->subscribed.exchange(true) && rt_->stats->interruptions > 0)
      rt_->log->info("{} - receiving again", rt_->decl->spec.address);
  }
  void interrupted(const error_info& why) override {
    rt_->subscribed = false;
    ++rt_->stats->interruptions;
    rt_->log->warn("{} - not receiving until the connection is back: {}", rt_->decl->spec.address,
                   why.message);
  }
  void gap(const error_info& why) override {
    ++rt_->stats->gaps;
    rt_->log->warn("{} - messages may have been missed ({}); counted in gaps",
                   rt_->decl->spec.address, why.message);
  }
  /// Swaps what arrived into `into` (empty; its capacity is kept for the next batch).
  void take(std::vector<envelope_ptr>& into) {
    std::lock_guard lock{mtx_};
    into.swap(queue_);
    scheduled_ = false;
  }
  bool has_queued() {
    std::lock_guard lock{mtx_};
    return !queue_.empty();
  }
  /// Detaches the subscriber; returns what it never picked up.
  std::vector<envelope_ptr> reset() {
    std::lock_guard lock{mtx_};
    target_ = caf::actor{};
    return std::move(queue_);
  }

private:
  void lost_after_reset(envelope& env) {
    if (env.ack && rt_->caps.can_keep()) {
      env.ack->nack();
      ++rt_->stats->nacked;
      return;
    }
    rt_->stats->drop(drop_reason::stopped);
    rt_->log->error(
        "{} | {} - message lost: delivered after its subscriber stopped; counted as "
        "dropped (stopped)",
        env.channel, env.message_id);
  }

  adaptive_mutex mtx_;
  caf::actor target_;
  runtime_ptr rt_;
  std::vector<envelope_ptr> queue_;
  bool scheduled_ = false;
};

struct slot {
  caf::actor actor;
  std::size_t load = 0;
};

/// The messages a subscriber has handed to its handlers, by id. Ids are a
/// slot index plus a generation, so a late `done` for a slot that has been
/// reused since (its handler died) finds nothing. No allocation once warm.
class inflight_table {
public:
  struct entry {
    envelope_ptr env;
    std::size_t handler = 0;
    std::uint32_t generation = 0;
  };

  std::uint64_t add(envelope_ptr env, std::size_t handler) {
    std::uint32_t index;
    if (free_.empty()) {
      index = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
    } else {
      index = free_.back();
      free_.pop_back();
    }
    auto& e = entries_[index];
    e.env = std::move(env);
    e.handler = handler;
    ++live_;
    return (std::uint64_t{e.generation} << 32) | index;
  }
  std::uint64_t id_of(const entry& e) const noexcept {
    return (std::uint64_t{e.generation} << 32) | static_cast<std::uint64_t>(&e - entries_.data());
  }
  /// The live entry of `id`, or null.
  entry* find(std::uint64_t id) noexcept {
    auto index = static_cast<std::uint32_t>(id);
    if (index >= entries_.size())
      return nullptr;
    auto& e = entries_[index];
    return e.env && e.generation == static_cast<std::uint32_t>(id >> 32) ? &e : nullptr;
  }
  void erase(entry& e) noexcept {
    e.env.reset();
    ++e.generation;
    free_.push_back(static_cast<std::uint32_t>(&e - entries_.data()));
    --live_;
  }
  template <class F>  // F(entry&) -> bool: erase when true
  void erase_if(F&& f) {
    for (auto& e : entries_)
      if (e.env && f(e))
        erase(e);
  }
  template <class F>
  void for_each(F&& f) {
    for (auto& e : entries_)
      if (e.env)
        f(e);
  }
  std::size_t size() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0; }

private:
  std::vector<entry> entries_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
};

}  // namespace

bool give_back(subscriber_runtime& rt, envelope& env, drop_reason why) {
  if (env.ack && rt.caps.can_keep()) {
    env.ack->nack();
    ++rt.stats->nacked;
    return false;
  }
  if (env.ack)
    env.ack->reject();
  rt.stats->drop(why);
  return true;
}

namespace {

struct subscriber_state {
  runtime_ptr rt;
  std::shared_ptr<actor_sink> sink;
  std::unique_ptr<subscription> sub;
  std::vector<slot> slots;
  inflight_table inflight;
  std::vector<envelope_ptr> arrived;  ///< the batch being dispatched
  std::vector<handle_batch> batches;  ///< per handler slot, sent after each batch
  std::deque<envelope_ptr> waiting;   ///< no live handler yet: dispatched on restart
  // A batch subscriber hands each handler runs of up to `batch` messages (one call each).
  std::size_t run_slot = 0, run_fill = 0;
  std::vector<envelope_ptr> partial;  ///< a partial batch waiting for more (`batch_wait`)
  std::uint64_t linger = 0;           ///< names the armed wait; 0 = none
  std::uint64_t lingers = 0;
  std::size_t returns = 0;  ///< settled messages whose credit is not yet given back
  std::deque<caf::actor_clock::time_point> restarts;
  bool draining = false;
  bool cancel_confirmed = false;  ///< the driver will deliver nothing more
  std::vector<caf::response_promise> drain_waiters;
  /// Its handlers' view of this subscriber: false once it ended.
  std::shared_ptr<subscriber_link> link = std::make_shared<subscriber_link>();
  static inline const char* name = "brook.subscriber";

  /// The driver's own drops (overflow, failed push-backs) into the counters.
  void sync_driver_drops() {
    if (sub)
      rt->stats->dropped[static_cast<std::size_t>(drop_reason::driver)] =
          rt->stats->driver_dropped_before + sub->dropped();
  }
  /// `hand_over`: the handlers keep the driver subscription until the last one ends.
  void end_subscription(bool hand_over = false) {
    if (!sub)
      return;
    sync_driver_drops();
    rt->stats->driver_dropped_before += sub->dropped();
    if (hand_over)
      link->keep = std::move(sub);
    sub.reset();
  }

  ~subscriber_state() {
    if (!rt)
      return;
    link->alive.store(false);  // before the claims are taken: see handler_state's end
    // Detach first, so a driver callback racing with the end is counted by
    // the sink; then stop the driver and settle whatever this subscriber held
    // (a crash, a drain timeout, an escalation).
    std::vector<envelope_ptr> left;
    if (sink)
      left = sink->reset();
    end_subscription(true);
    std::size_t lost = 0, returned = 0;
    auto settle = [&](envelope& env) {
      --rt->stats->held;
      ++(give_back(*rt, env, drop_reason::stopped) ? lost : returned);
    };
    inflight.for_each([&](inflight_table::entry& e) {
      // A handler that started it settles it (it is running, or its result is on the way).
      if (e.env->claim.take(inflight.id_of(e)))
        settle(*e.env);
      else
        --rt->stats->held;
    });
    for (auto& env : waiting)
      settle(*env);
    for (auto& env : partial)
      settle(*env);
    for (auto& env : left)
      settle(*env);
    rt->stats->in_flight = 0;
    if (lost > 0)
      rt->log->error(
          "{} - subscriber stopped holding {} message(s) its broker cannot take back; "
          "counted as dropped (stopped)",
          rt->decl->spec.address, lost);
    if (returned > 0)
      rt->log->warn("{} - subscriber stopped; {} unfinished message(s) returned for redelivery",
                    rt->decl->spec.address, returned);
  }
};

using subscriber_actor = caf::stateful_actor<subscriber_state>;

caf::actor spawn_slot(subscriber_actor* self) {
  return spawn_handler(self, self->state.rt, caf::actor_cast<caf::actor>(self), self->state.link);
}

void dispatch(subscriber_actor* self, envelope_ptr env);

/// Sends each handler its share of what was just dispatched.
void send_batches(subscriber_actor* self) {
  auto& s = self->state;
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    auto& out = s.batches[i];
    if (!out.items.empty() && s.slots[i].actor)
      self->send(s.slots[i].actor, handle_atom::value, std::move(out));
    out.items.clear();
  }
  s.run_fill = 0;
}

/// Dispatches a batch subscriber's partial batch now (its wait is over, or a drain).
void flush_partial(subscriber_actor* self) {
  auto& s = self->state;
  s.linger = 0;
  if (s.partial.empty())
    return;
  auto held = std::move(s.partial);
  s.partial.clear();
  for (auto& env : held)
    dispatch(self, std::move(env));
}

/// Takes what the driver delivered: straight to the handlers, or, for a batch
/// subscriber with a wait, into full batches and a partial one that waits.
void take_arrived(subscriber_actor* self) {
  auto& s = self->state;
  auto& arrived = s.arrived;
  s.sink->take(arrived);
  const auto& o = s.rt->decl->options;
  if (o.batch == 0 || o.batch_wait.count() == 0 || s.draining) {
    for (auto& env : arrived)
      dispatch(self, std::move(env));
    arrived.clear();
    return;
  }
  for (auto& env : arrived) {
    s.partial.push_back(std::move(env));
    if (s.partial.size() >= o.batch)
      flush_partial(self);
  }
  arrived.clear();
  if (!s.partial.empty() && s.linger == 0) {
    s.linger = ++s.lingers;
    self->delayed_send(self, o.batch_wait, linger_atom::value, s.linger);
  }
}

void check_drained(subscriber_actor* self) {
  auto& st = self->state;
  if (!st.draining || !st.cancel_confirmed)
    return;
  // What the driver delivered before it confirmed the cancel is ours to finish.
  if (st.sink->has_queued() || !st.partial.empty()) {
    take_arrived(self);
    flush_partial(self);
    send_batches(self);
  }
  if (!st.inflight.empty() || !st.waiting.empty())
    return;
  st.end_subscription();
  for (auto& rp : st.drain_waiters)
    rp.deliver(caf::ok_atom::value);
  st.drain_waiters.clear();
}

void on_handler_exit(subscriber_actor* self, caf::exit_msg& msg) {
  auto& st = self->state;
  auto it = std::find_if(st.slots.begin(), st.slots.end(),
                         [&](const slot& s) { return s.actor && s.actor.address() == msg.source; });
  if (it == st.slots.end()) {  // our parent, or the system shutting down
    self->quit(msg.reason);
    return;
  }
  auto idx = static_cast<std::size_t>(it - st.slots.begin());
  it->actor = caf::actor{};
  it->load = 0;
  // The dead handler's messages: back to the broker when it can redeliver
  // them, else lost and counted.
  std::size_t lost = 0, returned = 0, started = 0;
  st.inflight.erase_if([&](inflight_table::entry& e) {
    if (e.handler != idx)
      return false;
    --st.rt->stats->held;
    if (!e.env->claim.take(st.inflight.id_of(e))) {
      ++started;  // the handler had started it: it settled it, or gave it back as it ended
      return true;
    }
    if (give_back(*st.rt, *e.env, drop_reason::handler_died))
      ++lost;
    else
      ++returned;
    return true;
  });
  st.rt->stats->in_flight = st.inflight.size();
  auto& log = *st.rt->log;
  log.error(
      "{} - handler actor died ({}); {} in-flight message(s) returned for redelivery, {} "
      "lost (the subscription cannot redeliver; counted as dropped: handler_died)",
      st.rt->decl->spec.address, self->system().render(msg.reason), returned, lost);
  auto now = self->clock().now();
  auto& policy = st.rt->decl->options.restarts;
  while (!st.restarts.empty() && now - st.restarts.front() > policy.window)
    st.restarts.pop_front();
  if (st.restarts.size() >= policy.max_restarts) {
    log.critical("{} - handler restarted {} times within {} ms; escalating",
                 st.rt->decl->spec.address, st.restarts.size(), policy.window.count());
    self->quit(caf::sec::runtime_error);
    return;
  }
  st.restarts.push_back(now);
  ++st.rt->stats->restarts;
  self->delayed_send(self, policy.backoff.delay(st.restarts.size(), random01()),
                     restart_atom::value, static_cast<std::uint64_t>(idx));
  if (st.sub && !st.draining && lost + returned + started > 0)
    st.sub->request(lost + returned + started);
  check_drained(self);
}

/// Assigns one delivery to the least-loaded live handler's next batch.
void dispatch(subscriber_actor* self, envelope_ptr env) {
  auto& s = self->state;
  if (s.draining && env->ack && s.rt->caps.can_keep()) {
    // Taken after the drain began: the broker keeps it for the next consumer.
    env->ack->nack();
    ++s.rt->stats->nacked;
    --s.rt->stats->held;
    return;
  }
  // Restarting slots are skipped. A batch subscriber fills a run for one slot first.
  std::size_t best = s.slots.size();
  const auto batch = s.rt->decl->options.batch;
  const std::string* key = nullptr;
  if (s.rt->decl->options.key_ordered)
    if (auto k = env->metadata.find("key"); k != env->metadata.end())
      key = &k->second;
  if (key) {
    // One key, one handler actor: its messages run in the order they came. A restarting
    // slot's keys wait for it (with the rest of `waiting`).
    auto idx = std::hash<std::string>{}(*key) % s.slots.size();
    if (s.slots[idx].actor)
      best = idx;
  } else if (batch > 0 && s.run_fill > 0 && s.run_fill < batch && s.slots[s.run_slot].actor) {
    best = s.run_slot;
  } else {
    for (std::size_t i = 0; i < s.slots.size(); ++i)
      if (s.slots[i].actor && (best == s.slots.size() || s.slots[i].load < s.slots[best].load))
        best = i;
    s.run_slot = best;
    s.run_fill = 0;
  }
  ++s.run_fill;
  if (best == s.slots.size()) {
    // Every handler is restarting: hold it (its credit too) until one is back.
    s.waiting.push_back(std::move(env));
    return;
  }
  ++s.slots[best].load;
  auto id = s.inflight.add(env, best);
  env->claim.arm(id);
  auto n = s.inflight.size();
  s.rt->stats->in_flight = n;
  if (n > s.rt->stats->max_in_flight_seen)
    s.rt->stats->max_in_flight_seen = n;
  s.batches[best].items.emplace_back(id, std::move(env));
}

caf::behavior subscriber_impl(subscriber_actor* self, runtime_ptr rt) {
  auto& st = self->state;
  st.rt = rt;
  self->set_exit_handler([=](caf::exit_msg& msg) { on_handler_exit(self, msg); });
  st.slots.resize(rt->decl->options.max_concurrency);
  st.batches.resize(st.slots.size());
  for (auto& s : st.slots)
    s.actor = spawn_slot(self);
  st.sink = std::make_shared<actor_sink>(caf::actor_cast<caf::actor>(self), rt);
  auto spec = rt->decl->spec;
  if (rt->has_path_params) {
    spec.address = wildcard_address(spec.address);
    spec.pattern = true;
  }
  auto transport = rt->core->get_transport();
  rt->subscribed = false;
  st.sub = transport->subscribe(spec, st.sink);
  rt->caps = st.sub->capabilities();
  if (!st.sub->reports_ready())
    rt->subscribed = true;
  st.sub->request(rt->decl->options.max_in_flight);
  return {
      [=](deliver_atom) {
        take_arrived(self);
        send_batches(self);
        self->state.sync_driver_drops();
      },
      [=](linger_atom, std::uint64_t which) {
        if (which != self->state.linger)
          return;
        flush_partial(self);
        send_batches(self);
      },
      [=](done_atom, std::vector<std::uint64_t>& ids) {
        auto& s = self->state;
        for (auto id : ids) {
          auto* e = s.inflight.find(id);
          if (e == nullptr)
            continue;
          auto& sl = s.slots[e->handler];
          if (sl.load > 0)
            --sl.load;
          s.inflight.erase(*e);
          --s.rt->stats->held;
          ++s.returns;
        }
        s.rt->stats->in_flight = s.inflight.size();
        // Credit goes back in chunks of an eighth of the window: drivers then
        // read in batches (XREADGROUP COUNT, BLMPOP COUNT) instead of one by one.
        // With nothing in flight everything goes back, so the driver never starves.
        // A drain gives nothing back: the driver must stop taking work.
        auto chunk = std::max<std::size_t>(1, s.rt->decl->options.max_in_flight / 8);
        if (s.sub && !s.draining && s.returns > 0 && (s.returns >= chunk || s.inflight.empty())) {
          s.sub->request(s.returns);
          s.returns = 0;
        }
        check_drained(self);
      },
      [=](restart_atom, std::uint64_t idx) {
        auto& s = self->state;
        if (idx >= s.slots.size() || s.slots[idx].actor)
          return;
        s.slots[idx].actor = spawn_slot(self);
        auto held = std::move(s.waiting);
        s.waiting.clear();
        for (auto& env : held)
          dispatch(self, std::move(env));
        send_batches(self);
      },
      [=](drain_atom) {
        auto& s = self->state;
        auto rp = self->make_response_promise();
        s.drain_waiters.push_back(rp);
        if (!s.draining) {
          flush_partial(self);  // a partial batch taken before the drain runs now
          send_batches(self);
          s.draining = true;
          // Retries waiting in the handlers go back to the broker where they can.
          for (auto& sl : s.slots)
            if (sl.actor)
              self->send(sl.actor, drain_atom::value);
          if (s.sub) {
            // Stop taking work first; what the broker still has stays there.
            auto me = caf::actor_cast<caf::actor>(self);
            s.sub->cancel([me] { caf::anon_send(me, cancelled_atom::value); });
          } else {
            s.cancel_confirmed = true;
          }
        }
        check_drained(self);
        return rp;
      },
      [=](cancelled_atom) {
        self->state.cancel_confirmed = true;
        check_drained(self);
      },
      [=](failed_atom, std::string& why) {
        self->state.rt->log->critical("{} - subscription failed: {}",
                                      self->state.rt->decl->spec.address, why);
        self->quit(caf::sec::runtime_error);
      },
      [=](handlers_atom) {
        std::vector<caf::actor> xs;
        for (auto& s : self->state.slots)
          if (s.actor)
            xs.push_back(s.actor);
        return caf::make_message(self->state.rt->decl->spec.address, std::move(xs));
      },
  };
}

}  // namespace

caf::actor spawn_subscriber(caf::event_based_actor* parent, runtime_ptr rt) {
  return parent->spawn<caf::linked>(subscriber_impl, std::move(rt));
}

}  // namespace brook::detail
