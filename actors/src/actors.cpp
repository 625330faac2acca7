// The subscriber and handler actors: credit window, dispatch, ack policy,
// middleware chain, result publishing, handler restarts.
#include "runtime.hpp"

#include <brook/detail/adaptive_mutex.hpp>
#include <brook/message.hpp>

#include <boost/core/demangle.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace brook::detail {

std::string wildcard_address(const std::string& address) {
  std::string out;
  for (std::size_t i = 0; i < address.size(); ++i) {
    if (address[i] == '{') {
      auto end = address.find('}', i);
      if (end != std::string::npos) {
        out += '*';
        i = end;
        continue;
      }
    }
    out += address[i];
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> extract_path(std::string_view pattern,
                                                              std::string_view channel) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t p = 0, c = 0;
  while (p < pattern.size() && c <= channel.size()) {
    if (pattern[p] == '{') {
      auto end = pattern.find('}', p);
      if (end == std::string_view::npos)
        break;
      auto name = pattern.substr(p + 1, end - p - 1);
      p = end + 1;
      // A placeholder spans up to the next literal character of the pattern.
      auto stop = p < pattern.size() ? channel.find(pattern[p], c) : channel.size();
      if (stop == std::string_view::npos)
        stop = channel.size();
      out.emplace_back(std::string{name}, std::string{channel.substr(c, stop - c)});
      c = stop;
    } else {
      ++p;
      ++c;
    }
  }
  return out;
}

namespace {

/// Maps an exception to how the message is settled, and a text for the log.
struct failure {
  std::optional<ack_action> forced;  // from ack/nack/reject_message or a middleware
  bool is_decode = false;
  std::string type, text;
};

failure classify(const std::exception_ptr& ep) {
  failure f;
  try {
    std::rethrow_exception(ep);
  } catch (const ack_message&) {
    f.forced = ack_action::ack;
    f.type = "ack_message";
  } catch (const nack_message&) {
    f.forced = ack_action::nack;
    f.type = "nack_message";
  } catch (const reject_message&) {
    f.forced = ack_action::reject;
    f.type = "reject_message";
  } catch (const decode_failure& e) {
    f.is_decode = true;
    f.type = "decode_failure";
    f.text = e.what();
  } catch (const missing_input& e) {
    f.is_decode = true;
    f.type = "missing_input";
    f.text = e.what();
  } catch (const std::exception& e) {
    f.type = boost::core::demangle(typeid(e).name());
    f.text = e.what();
  } catch (...) {
    f.type = "unknown exception";
  }
  return f;
}

// -- handler actor -------------------------------------------------------------

struct job {
  std::uint64_t id = 0;
  context ctx;
  std::optional<message> msg;
  std::exception_ptr error;
  std::size_t publishes_left = 0;
  bool publish_failed = false;
  error_info publish_error;
  // Publish completions: counted inline while `inline_phase` holds on
  // `thread`, else sent to `self` as messages.
  std::atomic<bool> inline_phase{false};
  std::thread::id thread;
  caf::actor self;
};

struct handler_state {
  runtime_ptr rt;
  caf::actor subscriber;
  invoke_env env;
  std::unordered_map<std::uint64_t, std::unique_ptr<job>> pending;
  std::vector<std::unique_ptr<job>> spare;  ///< finished jobs, reused
  std::vector<std::uint64_t> done;          ///< finished since the last flush
  static inline const char* name = "brook.handler";

  std::unique_ptr<job> make_job(std::uint64_t id) {
    std::unique_ptr<job> j;
    if (spare.empty()) {
      j = std::make_unique<job>();
    } else {
      j = std::move(spare.back());
      spare.pop_back();
    }
    j->id = id;
    return j;
  }
  void recycle(std::unique_ptr<job> j) {
    if (spare.size() >= 64)
      return;
    j->ctx = {};
    j->msg.reset();
    j->error = nullptr;
    j->publishes_left = 0;
    j->publish_failed = false;
    j->publish_error = {};
    j->self = caf::actor{};
    spare.push_back(std::move(j));
  }
};

using handler_actor = caf::stateful_actor<handler_state>;


void settle(handler_actor* self, job& j) {
  auto& rt = *self->state.rt;
  auto& msg = *j.msg;
  auto policy = rt.decl->options.ack;
  auto& stats = *rt.stats;
  if (!j.error) {
    if (policy != ack_policy::manual)
      msg.settle(ack_action::ack);
    ++stats.processed;
    if (rt.log->should_log(spdlog::level::info))
      rt.log->info("{} | {} - Processed", msg.channel(), msg.message_id());
    return;
  }
  ++stats.failed;
  auto f = classify(j.error);
  if (!f.forced)
    for (auto& m : rt.chain)
      if (auto a = m->on_exception(msg, j.error)) {
        f.forced = a;
        break;
      }
  ack_action action;
  if (f.forced)
    action = *f.forced;
  else if (f.is_decode)
    action = ack_action::reject;  // a retry cannot fix a malformed body
  else if (policy == ack_policy::nack_on_error)
    action = ack_action::nack;
  else if (policy == ack_policy::ack)
    action = ack_action::ack;
  else
    action = ack_action::reject;
  if (f.is_decode)
    ++stats.decode_errors;
  bool settled_now = policy != ack_policy::manual || f.forced ? msg.settle(action) : false;
  if (settled_now && action == ack_action::reject)
    ++stats.rejected;
  if (settled_now && action == ack_action::nack)
    ++stats.nacked;
  if (f.forced && f.text.empty()) {
    rt.log->info("{} | {} - Processed ({})", msg.channel(), msg.message_id(), f.type);
  } else {
    const char* what = !settled_now && policy == ack_policy::ack_first ? "acked before processing"
                       : !settled_now                             ? "kept for manual settlement"
                       : action == ack_action::reject ? "rejected"
                       : action == ack_action::nack   ? "nacked for redelivery"
                                                      : "acked";
    rt.log->error("{} | {} - {}: {} (message {})", msg.channel(), msg.message_id(), f.type,
                  f.text, what);
  }
}

void complete_job(handler_actor* self, std::unique_ptr<job> j) {
  if (j->publish_failed && !j->error)
    j->error = std::make_exception_ptr(
      std::runtime_error("publishing the result failed: " + j->publish_error.to_string()));
  settle(self, *j);
  auto& chain = self->state.rt->chain;
  for (auto i = chain.rbegin(); i != chain.rend(); ++i) {
    try {
      (*i)->after_processed(*j->msg, j->error);
    } catch (const std::exception& e) {
      self->state.rt->log->error("{} | {} - middleware after_processed threw: {}",
                                 j->msg->channel(), j->msg->message_id(), e.what());
    }
  }
  self->state.done.push_back(j->id);
  self->state.recycle(std::move(j));
}

/// Tells the subscriber which messages finished, once per mailbox message.
void flush_done(handler_actor* self) {
  auto& done = self->state.done;
  if (!done.empty()) {
    self->send(self->state.subscriber, done_atom::value, std::move(done));
    done.clear();
  }
}

/// Publishes the result to the handler's publishers and to reply_to.
void finish(handler_actor* self, std::unique_ptr<job> j, reply r) {
  auto& rt = *self->state.rt;
  auto& msg = *j->msg;
  auto& publishers = rt.decl->publishers;
  const bool reply_to = !msg.reply_to().empty();
  const std::size_t targets = (r.has_body ? publishers.size() : 0) + (reply_to ? 1 : 0);
  if (targets == 0) {
    complete_job(self, std::move(j));
    return;
  }
  std::vector<outgoing> out(targets);
  std::string correlation_id = r.correlation_id.empty() ? std::string{msg.correlation_id()}
                                                        : std::move(r.correlation_id);
  for (std::size_t k = 0; k < targets; ++k) {
    auto& m = out[k];
    const bool last = k + 1 == targets;
    if (r.has_body && k < publishers.size()) {
      m.channel = publishers[k]->address;
      m.options = publishers[k]->driver;
    } else {
      m.channel = msg.reply_to();
      m.options["reply"] = "1";
    }
    // The last target takes the encoded result; the others copy it.
    m.body = last ? std::move(r.data) : r.data;
    m.content_type = last ? std::move(r.content_type) : r.content_type;
    m.headers = last ? std::move(r.headers) : r.headers;
    m.correlation_id = last ? std::move(correlation_id) : correlation_id;
  }
  for (auto& m : out)
    for (auto& mw : rt.chain)
      mw->on_publish(m);
  // Completions of in-process transports arrive synchronously on this thread;
  // count those inline and hop through the mailbox only for asynchronous ones.
  j->publishes_left = targets;
  j->thread = std::this_thread::get_id();
  j->self = caf::actor_cast<caf::actor>(self);
  j->inline_phase.store(true, std::memory_order_release);
  auto* jp = j.get();
  auto transport = rt.core->get_transport();
  for (auto& m : out) {
    transport->publish(std::move(m), [jp](const error_info& e) {
      if (jp->inline_phase.load(std::memory_order_acquire)
          && std::this_thread::get_id() == jp->thread) {
        if (e) {
          jp->publish_failed = true;
          jp->publish_error = e;
        }
        --jp->publishes_left;
      } else {
        caf::anon_send(jp->self, published_atom::value, jp->id, e.message,
                       static_cast<int>(e.code));
      }
    });
  }
  jp->inline_phase.store(false, std::memory_order_release);
  if (jp->publishes_left == 0)
    complete_job(self, std::move(j));
  else
    self->state.pending.emplace(jp->id, std::move(j));
}

void on_result(handler_actor* self, std::unique_ptr<job> j, call_result r) {
  if (r.error) {
    j->error = r.error;
    complete_job(self, std::move(j));
    return;
  }
  finish(self, std::move(j), std::move(r.value));
}

void process(handler_actor* self, std::uint64_t id, envelope_ptr env) {
  auto& rt = *self->state.rt;
  ++rt.stats->received;
  auto j = self->state.make_job(id);
  std::vector<std::pair<std::string, std::string>> path;
  if (rt.has_path_params)
    path = extract_path(rt.decl->spec.address, env->channel);
  logger log{rt.log, env->channel, env->message_id};
  j->msg.emplace(std::move(env), std::move(log), &j->ctx, std::move(path));
  auto& msg = *j->msg;
  if (rt.log->should_log(spdlog::level::info))
    rt.log->info("{} | {} - Received", msg.channel(), msg.message_id());
  if (rt.decl->options.ack == ack_policy::ack_first)
    msg.settle(ack_action::ack);
  try {
    for (auto& m : rt.chain)
      m->on_receive(msg);
  } catch (...) {
    j->error = std::current_exception();
    complete_job(self, std::move(j));
    return;
  }
  handler_base* h = nullptr;
  for (auto& e : rt.decl->handlers) {
    bool match = true;
    if (e.filter) {
      try {
        match = e.filter(msg);
      } catch (...) {
        match = false;
      }
    }
    if (match) {
      h = e.handler.get();
      break;
    }
  }
  if (!h) {
    j->error = std::make_exception_ptr(reject_message{});
    rt.log->warn("{} | {} - no handler's filter accepted the message; rejected", msg.channel(),
                 msg.message_id());
    complete_job(self, std::move(j));
    return;
  }
  auto self_handle = caf::actor_cast<caf::actor>(self);
  auto r = h->invoke(msg, self->state.env, [self_handle, id](call_result res) {
    caf::anon_send(self_handle, complete_atom::value, id,
                   std::make_shared<call_result>(std::move(res)));
  });
  if (r) {
    on_result(self, std::move(j), std::move(*r));
  } else {
    self->state.pending.emplace(id, std::move(j));
  }
}

caf::behavior handler_impl(handler_actor* self, runtime_ptr rt, caf::actor subscriber) {
  self->state.rt = rt;
  self->state.subscriber = std::move(subscriber);
  self->state.env.codec = &rt->decl->options.codec;
  self->state.env.deps = rt->decl->deps.get();
  if (auto calls = rt->decl->calls)
    self->state.env.record = [calls](boost::json::value v) { calls->add(std::move(v)); };
  return {
    [=](handle_atom, handle_batch& batch) {
      for (auto& [id, env] : batch.items)
        process(self, id, std::move(env));
      flush_done(self);
    },
    [=](complete_atom, std::uint64_t id, result_ptr& r) {
      auto node = self->state.pending.extract(id);
      if (node.empty())
        return;
      on_result(self, std::move(node.mapped()), std::move(*r));
      flush_done(self);
    },
    [=](published_atom, std::uint64_t id, std::string& text, int code) {
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      auto& j = *i->second;
      if (code != 0) {
        j.publish_failed = true;
        j.publish_error = {static_cast<errc>(code), std::move(text)};
      }
      if (--j.publishes_left == 0) {
        auto node = self->state.pending.extract(i);
        complete_job(self, std::move(node.mapped()));
        flush_done(self);
      }
    },
  };
}

// -- subscriber actor ------------------------------------------------------------

/// Collects deliveries and wakes the subscriber once per batch: while it has
/// not yet picked up what arrived, later deliveries join the same batch
/// instead of costing a mailbox message each.
class actor_sink final : public delivery_sink {
public:
  explicit actor_sink(caf::actor target) : target_(std::move(target)) {}
  void deliver(envelope_ptr env) override {
    caf::actor wake;
    {
      std::lock_guard lock{mtx_};
      queue_.push_back(std::move(env));
      if (!scheduled_ && target_) {
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
  /// Swaps what arrived into `into` (empty; its capacity is kept for the next batch).
  void take(std::vector<envelope_ptr>& into) {
    std::lock_guard lock{mtx_};
    into.swap(queue_);
    scheduled_ = false;
  }
  /// Detaches the subscriber; returns what it never picked up.
  std::vector<envelope_ptr> reset() {
    std::lock_guard lock{mtx_};
    target_ = caf::actor{};
    return std::move(queue_);
  }

private:
  adaptive_mutex mtx_;
  caf::actor target_;
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

struct subscriber_state {
  runtime_ptr rt;
  std::shared_ptr<actor_sink> sink;
  std::unique_ptr<subscription> sub;
  std::vector<slot> slots;
  inflight_table inflight;
  std::vector<envelope_ptr> arrived;   ///< the batch being dispatched
  std::vector<handle_batch> batches;  ///< per handler slot, sent after each batch
  std::size_t returns = 0;  ///< settled messages whose credit is not yet given back
  std::deque<caf::actor_clock::time_point> restarts;
  bool draining = false;
  std::vector<envelope_ptr> held;  ///< arrived while draining; handed back at the end
  std::vector<caf::response_promise> drain_waiters;
  static inline const char* name = "brook.subscriber";

  ~subscriber_state() {
    // Stop the driver first so no callback reaches a dead mailbox; then hand
    // back whatever this subscriber still held (a crash or a drain timeout).
    sub.reset();
    if (sink)
      for (auto& env : sink->reset())
        held.push_back(std::move(env));
    inflight.for_each([](inflight_table::entry& e) {
      if (e.env->ack)
        e.env->ack->nack();
    });
    for (auto& env : held)
      if (env->ack)
        env->ack->nack();
  }
};

using subscriber_actor = caf::stateful_actor<subscriber_state>;

caf::actor spawn_handler(subscriber_actor* self) {
  auto& rt = self->state.rt;
  auto me = caf::actor_cast<caf::actor>(self);
  caf::actor h = rt->decl->options.blocking
                   ? self->spawn<caf::detached + caf::linked>(handler_impl, rt, me)
                   : self->spawn<caf::linked>(handler_impl, rt, me);
  return h;
}

void check_drained(subscriber_actor* self) {
  auto& st = self->state;
  if (st.draining && st.inflight.empty()) {
    // Stop the subscription only now: a driver may hand back what its
    // consumer has not settled when it closes, and in-flight work just finished.
    st.sub.reset();
    st.sink->take(st.arrived);  // delivered but not yet picked up
    for (auto& env : st.arrived)
      st.held.push_back(std::move(env));
    st.arrived.clear();
    for (auto& env : st.held)
      if (env->ack)
        env->ack->nack();
    st.held.clear();
    for (auto& rp : st.drain_waiters)
      rp.deliver(caf::ok_atom::value);
    st.drain_waiters.clear();
  }
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
  // Give the dead handler's messages back to the broker for redelivery.
  std::size_t lost = 0;
  st.inflight.erase_if([&](inflight_table::entry& e) {
    if (e.handler != idx)
      return false;
    if (auto& ack = e.env->ack)
      ack->nack();
    ++st.rt->stats->nacked;
    ++lost;
    return true;
  });
  st.rt->stats->in_flight = st.inflight.size();
  auto& log = *st.rt->log;
  log.error("{} - handler actor died ({}); {} in-flight message(s) returned for redelivery",
            st.rt->decl->spec.address, self->system().render(msg.reason), lost);
  auto now = self->clock().now();
  auto window = st.rt->decl->options.restart_window;
  while (!st.restarts.empty() && now - st.restarts.front() > window)
    st.restarts.pop_front();
  if (st.restarts.size() >= st.rt->decl->options.max_restarts) {
    log.critical("{} - handler restarted {} times within {} ms; escalating",
                 st.rt->decl->spec.address, st.restarts.size(), window.count());
    self->quit(caf::sec::runtime_error);
    return;
  }
  st.restarts.push_back(now);
  ++st.rt->stats->restarts;
  // Exponential backoff: 10 ms, 20 ms, 40 ms ... capped at 1 s.
  auto delay = std::chrono::milliseconds{10} * (1u << std::min<std::size_t>(st.restarts.size() - 1, 7));
  self->delayed_send(self, std::min(delay, std::chrono::milliseconds{1000}), restart_atom::value,
                     static_cast<std::uint64_t>(idx));
  if (st.sub && lost > 0)
    st.sub->request(lost);
  check_drained(self);
}

/// Assigns one delivery to the least-loaded live handler's next batch.
void dispatch(subscriber_actor* self, envelope_ptr env) {
  auto& s = self->state;
  if (s.draining) {  // arrived after drain began: handed back untouched at the end
    s.held.push_back(std::move(env));
    return;
  }
  // Restarting slots are skipped.
  std::size_t best = s.slots.size();
  for (std::size_t i = 0; i < s.slots.size(); ++i)
    if (s.slots[i].actor && (best == s.slots.size() || s.slots[i].load < s.slots[best].load))
      best = i;
  if (best == s.slots.size()) {
    if (env->ack)
      env->ack->nack();
    if (s.sub)
      s.sub->request(1);
    return;
  }
  ++s.slots[best].load;
  auto id = s.inflight.add(env, best);
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
    s.actor = spawn_handler(self);
  st.sink = std::make_shared<actor_sink>(caf::actor_cast<caf::actor>(self));
  auto spec = rt->decl->spec;
  if (rt->has_path_params) {
    spec.address = wildcard_address(spec.address);
    spec.pattern = true;
  }
  st.sub = rt->core->get_transport()->subscribe(spec, st.sink);
  st.sub->request(rt->decl->options.max_in_flight);
  rt->subscribed = true;
  return {
    [=](deliver_atom) {
      auto& s = self->state;
      auto& batch = s.arrived;
      s.sink->take(batch);
      for (auto& env : batch)
        dispatch(self, std::move(env));
      batch.clear();
      for (std::size_t i = 0; i < s.slots.size(); ++i) {
        auto& out = s.batches[i];
        if (!out.items.empty() && s.slots[i].actor)
          self->send(s.slots[i].actor, handle_atom::value, std::move(out));
        out.items.clear();
      }
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
        ++s.returns;
      }
      s.rt->stats->in_flight = s.inflight.size();
      // Credit goes back in chunks of an eighth of the window: drivers then
      // read in batches (XREADGROUP COUNT, BLMPOP COUNT) instead of one by one.
      // With nothing in flight everything goes back, so the driver never starves.
      auto chunk = std::max<std::size_t>(1, s.rt->decl->options.max_in_flight / 8);
      if (s.sub && s.returns > 0 && (s.returns >= chunk || s.inflight.empty())) {
        s.sub->request(s.returns);
        s.returns = 0;
      }
      check_drained(self);
    },
    [=](restart_atom, std::uint64_t idx) {
      auto& s = self->state;
      if (idx < s.slots.size() && !s.slots[idx].actor && !s.draining)
        s.slots[idx].actor = spawn_handler(self);
    },
    [=](drain_atom) {
      auto& s = self->state;
      s.draining = true;
      auto rp = self->make_response_promise();
      s.drain_waiters.push_back(rp);
      check_drained(self);
      return rp;
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
