// The handler actor: runs one subscriber's handler for the messages it is
// given, publishes results, settles each message by policy and by what its
// subscription can do, retries with backoff and dead-letters.
#include <algorithm>
#include <boost/core/demangle.hpp>
#include <brook/message.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <unordered_map>

#include "observer_fanout.hpp"
#include "runtime.hpp"

namespace brook::detail {

std::shared_ptr<resumer>& current_resumer() noexcept {
  thread_local std::shared_ptr<resumer> current;
  return current;
}

caf::event_based_actor*& current_actor() noexcept {
  thread_local caf::event_based_actor* current = nullptr;
  return current;
}

double random01() noexcept {
  thread_local std::minstd_rand gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
}

std::string_view to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::handler_died: return "handler_died";
    case drop_reason::not_redeliverable: return "not_redeliverable";
    case drop_reason::stopped: return "stopped";
    case drop_reason::driver: return "driver";
  }
  return "unknown";
}

}  // namespace brook::detail

std::string_view brook::to_string(processing_status s) noexcept {
  switch (s) {
    case processing_status::acked: return "acked";
    case processing_status::nacked: return "nacked";
    case processing_status::rejected: return "rejected";
    case processing_status::skipped: return "skipped";
    case processing_status::error: return "error";
  }
  return "error";
}

namespace brook::detail {
namespace {

/// A result that could not be published; its code says whether a retry can help.
class publish_failure : public std::runtime_error {
public:
  explicit publish_failure(error_info e)
      : std::runtime_error("publishing the result failed: " + e.to_string()), code(e.code) {}
  errc code;
};

/// Maps an exception to how the message is settled, and a text for the log.
struct failure {
  std::optional<ack_action> forced;  // from ack/nack/reject_message or a middleware
  bool is_decode = false;
  bool retryable = false;  // a result publish that can succeed later: never ack the input
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
  } catch (const publish_failure& e) {
    f.retryable = is_retryable(e.code) || e.code == errc::closed;
    f.type = "publish_failure";
    f.text = e.what();
  } catch (const std::exception& e) {
    f.type = boost::core::demangle(typeid(e).name());
    f.text = e.what();
  } catch (...) {
    f.type = "unknown exception";
  }
  return f;
}

enum class stage {
  admitting,    ///< asking a shared middleware
  admit_delay,  ///< admitted, starting after a delay (a rate limit)
  admit_wait,   ///< told to wait, asking again after a delay
  running,
  publishing,
  waiting_retry,
  dead_lettering,
  republishing
};

struct job {
  std::uint64_t id = 0;
  std::vector<std::uint64_t> more_ids;  ///< a batch's other messages (the first is `id`)
  std::uint32_t run = 0;                ///< bumped per attempt: stale completions are ignored
  std::uint32_t retries = 0;            ///< in-process retries so far
  stage at = stage::running;
  context ctx;
  std::optional<message> msg;
  std::exception_ptr error;
  std::size_t publishes_left = 0;
  error_info publish_error;
  std::string give_up_reason;  ///< set while dead-lettering
  bool dead_lettered = false;
  bool republished = false;                  ///< settled by handing a retry back to the broker
  std::chrono::milliseconds retry_delay{0};  ///< while republishing: the in-process fallback
  bool hooked = false;  ///< the inline middlewares' on_receive ran: after_processed runs too
  // Shared middlewares (gates): this run as they see it, the gate being asked, and
  // how many admitted it (each of those hears `settled` once).
  query_ptr query;
  std::size_t gate_at = 0;
  std::size_t admitted = 0;
  std::chrono::milliseconds admit_delay{0};
  // Telemetry: when it was received, and how its last run ended.
  std::chrono::steady_clock::time_point received_at{};
  bool skipped = false;      ///< acked without running (a shared middleware said skip)
  bool errored = false;      ///< its last run failed with an exception not forcing an outcome
  std::string error_type;    ///< that exception's type
  delivery_trace_ptr trace;  ///< tracing's span of this delivery; null when not traced
};

/// Where publish completions go. Shared with the callbacks (not the job): a
/// callback that runs after its handler actor died finds no job to touch.
struct publish_gate {
  caf::actor_addr self;
  // Completions of in-process transports arrive synchronously on the
  // publishing thread: counted here while `inline_job` is that job's id + 1.
  std::atomic<std::uint64_t> inline_job{0};
  std::atomic<std::thread::id> thread{};
  std::size_t inline_left = 0;
  error_info inline_error;
};

/// Resumes a handler's coroutines on its actor: a message to it per resumption.
/// When the actor is gone, a resumed coroutine is destroyed instead (its result
/// has nobody to go to).
/// A traced delivery's coroutine resumes with its trace current again (its publishes
/// after a `co_await` are that delivery's children too).
class actor_resumer final : public detail::resumer {
public:
  explicit actor_resumer(caf::actor_addr a, delivery_trace_ptr trace = nullptr)
      : addr_(std::move(a)), trace_(std::move(trace)) {}
  void resume(std::coroutine_handle<> h) override {
    if (auto a = caf::actor_cast<caf::actor>(addr_)) {
      if (trace_)
        caf::anon_send(a, resume_atom::value, encode(h), trace_);
      else
        caf::anon_send(a, resume_atom::value, encode(h));
    } else {
      h.destroy();
    }
  }
  void resume_after(std::chrono::milliseconds delay, std::coroutine_handle<> h) override {
    if (auto a = caf::actor_cast<caf::actor>(addr_)) {
      if (trace_)
        caf::delayed_anon_send(a, delay, resume_atom::value, encode(h), trace_);
      else
        caf::delayed_anon_send(a, delay, resume_atom::value, encode(h));
    } else {
      h.destroy();
    }
  }
  static std::uint64_t encode(std::coroutine_handle<> h) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(h.address()));
  }
  static std::coroutine_handle<> decode(std::uint64_t v) {
    return std::coroutine_handle<>::from_address(
        reinterpret_cast<void*>(static_cast<std::uintptr_t>(v)));
  }

private:
  caf::actor_addr addr_;
  delivery_trace_ptr trace_;
};

/// Makes `self` this thread's handler actor, its resumer the one coroutines resume
/// on, and `trace` the current delivery's, while alive (handler calls, resumptions).
class resumer_scope {
public:
  resumer_scope(caf::event_based_actor* self, std::shared_ptr<detail::resumer> r,
                delivery_trace_ptr trace = nullptr)
      : prev_(std::exchange(detail::current_resumer(), std::move(r))),
        prev_actor_(std::exchange(detail::current_actor(), self)),
        trace_(std::move(trace)) {}
  ~resumer_scope() {
    detail::current_resumer() = std::move(prev_);
    detail::current_actor() = prev_actor_;
  }
  resumer_scope(const resumer_scope&) = delete;
  resumer_scope& operator=(const resumer_scope&) = delete;

private:
  std::shared_ptr<detail::resumer> prev_;
  caf::event_based_actor* prev_actor_;
  detail::trace_scope trace_;
};

struct handler_state {
  runtime_ptr rt;
  std::shared_ptr<detail::resumer> resumer;  ///< where this actor's coroutines resume
  caf::actor subscriber;
  invoke_env env;
  std::shared_ptr<publish_gate> gate = std::make_shared<publish_gate>();
  std::unordered_map<std::uint64_t, std::unique_ptr<job>> pending;
  std::vector<std::unique_ptr<job>> spare;  ///< finished jobs, reused
  std::vector<std::uint64_t> done;          ///< finished since the last flush
  bool warned_unsettled = false;
  std::uint64_t next_run = 0;             ///< names handler runs for the shared middlewares
  std::size_t returned = 0, lost = 0;     ///< given back unfinished (a stop, this actor's end)
  std::shared_ptr<subscriber_link> link;  ///< holds the subscription while this handler lives
  static inline const char* name = "brook.handler";

  /// What this handler had started and not settled: while its subscriber lives
  /// (this handler died alone), handed back to it by re-arming the claims, and the
  /// subscriber returns or counts them as for any handler death; once the
  /// subscriber has ended (a stop, its crash), returned or counted here.
  ~handler_state() {
    if (!rt)
      return;
    const auto why = rt->abandoning() ? drop_reason::stopped : drop_reason::handler_died;
    for (auto& [id, j] : pending) {
      if (!j->msg || j->msg->settled())
        continue;
      auto& held = *j->msg->raw();
      std::vector<std::pair<std::uint64_t, envelope*>> each;
      if (held.batch.empty()) {
        each.emplace_back(j->id, &held);
      } else {
        for (std::size_t k = 0; k < held.batch.size(); ++k)
          each.emplace_back(k == 0 ? j->id : j->more_ids[k - 1], held.batch[k].get());
      }
      for (auto [at, one] : each) {
        one->claim.arm(at);
        // The subscriber clears `alive` before it takes claims: when it still lives
        // here, it will find this one armed.
        if (link && link->alive.load() && !rt->abandoning())
          continue;
        if (one->claim.take(at))
          ++(give_back(*rt, *one, why) ? lost : returned);
      }
    }
    if (lost > 0)
      rt->log->error(
          "{} - handler ended holding {} unfinished message(s) its broker cannot take back; "
          "counted as dropped ({})",
          rt->decl->spec.address, lost, to_string(why));
    if (returned > 0)
      rt->log->warn("{} - handler ended; {} unfinished message(s) returned for redelivery",
                    rt->decl->spec.address, returned);
  }

  std::unique_ptr<job> make_job(std::uint64_t id) {
    std::unique_ptr<job> j;
    if (spare.empty()) {
      j = std::make_unique<job>();
    } else {
      j = std::move(spare.back());
      spare.pop_back();
    }
    j->id = id;
    j->more_ids.clear();
    return j;
  }
  void recycle(std::unique_ptr<job> j) {
    if (spare.size() >= 64)
      return;
    j->ctx = {};
    j->msg.reset();
    j->error = nullptr;
    j->publishes_left = 0;
    j->publish_error = {};
    j->retries = 0;
    j->at = stage::running;
    j->give_up_reason.clear();
    j->dead_lettered = false;
    j->republished = false;
    j->retry_delay = {};
    j->hooked = false;
    j->query.reset();
    j->gate_at = j->admitted = 0;
    j->admit_delay = {};
    j->skipped = j->errored = false;
    spare.push_back(std::move(j));
  }
};

using handler_actor = caf::stateful_actor<handler_state>;

void run_job(handler_actor* self, std::unique_ptr<job> j);
void release_gates(handler_actor* self, job& j, middleware::run_outcome how);
/// Publishes `out[k]` through `cores[k]` (each publisher's own broker; empty:
/// all through the subscriber's).
/// Telemetry hears of the first `observed` publishes (not of replies to `reply_to`).
void publish_all(handler_actor* self, std::unique_ptr<job> j, std::vector<outgoing> out,
                 std::vector<broker_core*> cores, std::size_t observed = SIZE_MAX);

/// How many messages `j` stands for: a batch counts each of its messages.
std::uint64_t weight(const job& j) noexcept {
  return 1 + j.more_ids.size();
}

/// Counts how `j`'s message ended, once, from what it was settled with and what
/// its subscription can do: a nack that the broker cannot honour is a loss.
void account(handler_actor* self, job& j) {
  auto& rt = *self->state.rt;
  auto& stats = *rt.stats;
  auto& msg = *j.msg;
  const auto n = weight(j);
  auto how = msg.settled_as();
  if (!how)
    return;
  if (j.dead_lettered) {
    stats.dead_lettered += n;
    return;
  }
  switch (*how) {
    case ack_action::ack: stats.acked += n; break;
    case ack_action::reject: stats.rejected += n; break;
    case ack_action::nack:
      if (rt.caps.can_keep() && msg.raw()->ack) {
        stats.nacked += n;
      } else {
        stats.drop(drop_reason::not_redeliverable, n);
        msg.logger().error(
            "message lost: nacked, but this {} subscription cannot redeliver "
            "(broker id {}); counted as dropped (not_redeliverable). Use a kind with "
            "acks (a Redis stream with a group) or set .retry(...) to retry in process",
            rt.core->get_transport()->protocol(),
            msg.delivery().broker_id.empty() ? "-" : msg.delivery().broker_id);
      }
      break;
  }
}

/// The inline middlewares' `after_processed`, innermost first, when their `on_receive` ran.
void after_processed(handler_actor* self, job& j) {
  auto& chain = self->state.rt->chain;
  for (auto i = chain.rbegin(); i != chain.rend() && j.hooked; ++i) {
    try {
      (*i)->after_processed(*j.msg, j.error);
    } catch (const std::exception& e) {
      j.msg->logger().error("middleware after_processed threw: {}", e.what());
    }
  }
}

/// Tells telemetry how `j` ended (FastStream's statuses).
void observe_end(subscription_probe& probe, job& j) {
  auto how = j.msg->settled_as();
  auto status = j.skipped                         ? processing_status::skipped
                : j.errored                       ? processing_status::error
                : !how || *how == ack_action::ack ? processing_status::acked
                : *how == ack_action::nack        ? processing_status::nacked
                                                  : processing_status::rejected;
  probe.processed(status, std::chrono::steady_clock::now() - j.received_at, weight(j));
  if (j.trace)
    j.trace->end(status, j.errored ? j.error_type : std::string_view{});
}

void finish_job(handler_actor* self, std::unique_ptr<job> j) {
  after_processed(self, *j);
  if (auto* probe = self->state.rt->probe.get())
    observe_end(*probe, *j);
  if (!j->republished)  // a republished retry is back on the broker, counted in `retried`
    account(self, *j);
  auto& done = self->state.done;
  done.push_back(j->id);
  done.insert(done.end(), j->more_ids.begin(), j->more_ids.end());
  self->state.recycle(std::move(j));
}

/// `env` as it came, addressed to `to` (its body, ids and user headers).
outgoing copy_to(const envelope& env, const publisher_decl& to) {
  outgoing m;
  m.channel = to.address;
  m.driver = to.driver;
  m.body = env.body;
  m.content_type = env.content_type;
  m.correlation_id = env.correlation_id;
  m.reply_to = env.reply_to;
  m.message_id = env.message_id;
  for (auto& [k, v] : env.headers)
    if (k != "correlation_id" && k != "content-type" && k != "reply_to" && k != "message_id")
      m.headers.set(k, v);
  return m;
}

/// `msg` as it came, one outgoing per message (a batch's each on its own), addressed
/// to `to`; `extra(out, env)` adds headers.
template <class F>
std::vector<outgoing> copies_to(const message& msg, const publisher_decl& to, F&& extra) {
  std::vector<outgoing> out;
  auto add = [&](const envelope& env) {
    out.push_back(copy_to(env, to));
    extra(out.back(), env);
  };
  if (msg.batch().empty())
    add(*msg.raw());
  for (auto& env : msg.batch())
    add(*env);
  return out;
}

/// Milliseconds since the Unix epoch: the clock of `x-brook-retry-at`, which other
/// processes read.
std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Hands `j`'s message back to the broker through `through` as attempt `attempt`
/// (due at `due_ms` when given); the input is settled once the publish is confirmed.
void republish(handler_actor* self, std::unique_ptr<job> j, const publisher_decl& through,
               std::uint32_t attempt, std::optional<std::int64_t> due_ms) {
  auto out = copies_to(*j->msg, through, [&](outgoing& m, const envelope&) {
    m.headers.set("x-brook-attempt", std::to_string(attempt));
    if (due_ms)
      m.headers.set("x-brook-retry-at", std::to_string(*due_ms));
  });
  j->at = stage::republishing;
  std::vector<broker_core*> cores(out.size(), through.core.get());
  publish_all(self, std::move(j), std::move(out), std::move(cores));
}

/// Keeps `j` here (and its credit) and runs it again after `delay`.
void retry_in_process(handler_actor* self, std::unique_ptr<job> j,
                      std::chrono::milliseconds delay) {
  ++j->retries;
  ++j->run;
  j->at = stage::waiting_retry;
  auto id = j->id;
  auto run = j->run;
  self->state.pending.emplace(id, std::move(j));
  self->delayed_send(self, delay, retry_atom::value, id, run);
}

/// After the last attempt: to the dead-letter publisher, or rejected.
void give_up(handler_actor* self, std::unique_ptr<job> j, std::uint32_t attempts,
             const failure& f) {
  auto& rt = *self->state.rt;
  auto& msg = *j->msg;
  auto reason = f.type + (f.text.empty() ? "" : ": " + f.text);
  auto& dlq = rt.policies.dead_letter;
  if (!dlq || !dlq->core) {
    msg.settle(ack_action::reject);
    msg.logger().error(
        "gave up after {} attempt(s) ({}); rejected (no dead-letter "
        "publisher: set .dead_letter(...) to keep such messages)",
        attempts, reason);
    finish_job(self, std::move(j));
    return;
  }
  auto out = copies_to(msg, *dlq, [&](outgoing& m, const envelope& env) {
    m.headers.set("x-brook-dead-letter-reason", reason);
    m.headers.set("x-brook-original-channel", env.channel);
    m.headers.set("x-brook-attempts", std::to_string(attempts));
    if (!env.delivery.broker_id.empty())
      m.headers.set("x-brook-broker-id", env.delivery.broker_id);
  });
  j->at = stage::dead_lettering;
  j->give_up_reason = std::move(reason);
  std::vector<broker_core*> cores(out.size(), dlq->core.get());
  publish_all(self, std::move(j), std::move(out), std::move(cores));
}

void begin(handler_actor* self, std::uint64_t id, const std::vector<std::uint64_t>& more,
           envelope_ptr env, std::chrono::milliseconds wait);

/// A batch that did not decode runs again message by message: the malformed
/// ones fail alone (rejected or dead-lettered), the others are handled.
void dissolve(handler_actor* self, std::unique_ptr<job> j, const failure& f) {
  auto& msg = *j->msg;
  msg.logger().warn(
      "a batch of {} did not decode ({}); running its messages "
      "one by one",
      msg.batch().size(), f.text);
  after_processed(self, *j);
  auto members = msg.batch();
  std::vector<std::uint64_t> ids{j->id};
  ids.insert(ids.end(), j->more_ids.begin(), j->more_ids.end());
  self->state.recycle(std::move(j));
  for (std::size_t k = 0; k < members.size() && k < ids.size(); ++k)
    begin(self, ids[k], {}, make_batch({members[k]}), std::chrono::milliseconds{0});
}

/// Settles a finished job by policy, capabilities and retry policy.
void settle_job(handler_actor* self, std::unique_ptr<job> j) {
  auto& rt = *self->state.rt;
  auto& msg = *j->msg;
  auto policy = rt.decl->options.ack;
  auto& stats = *rt.stats;
  if (j->publish_error && !j->error)
    j->error = std::make_exception_ptr(publish_failure{j->publish_error});
  if (!j->error) {
    j->errored = false;
    release_gates(self, *j, middleware::run_outcome::processed);
    if (policy != ack_policy::manual) {
      msg.settle(ack_action::ack);
    } else if (!msg.settled()) {
      if (!self->state.warned_unsettled) {
        self->state.warned_unsettled = true;
        msg.logger().warn(
            "ack_policy::manual: the handler returned without settling the "
            "message; nacked (call m.ack(), m.nack() or m.reject() before returning, or "
            "return a deferred result). Logged once per handler actor");
      }
      msg.settle(ack_action::nack);
    }
    stats.processed += weight(*j);
    if (rt.log->should_log(spdlog::level::info))
      msg.logger().info("Processed");
    finish_job(self, std::move(j));
    return;
  }
  auto f = classify(j->error);
  release_gates(self, *j,
                f.is_decode ? middleware::run_outcome::invalid : middleware::run_outcome::failed);
  if (f.is_decode && msg.batch().size() > 1 && !msg.settled()) {
    dissolve(self, std::move(j), f);
    return;
  }
  stats.failed += weight(*j);
  j->errored = !f.forced;
  j->error_type = f.type;
  if (!f.forced && rt.probe)
    rt.probe->failed(f.type);
  if (!f.forced)
    for (auto& m : rt.chain)
      if (auto a = m->on_exception(msg, j->error)) {
        f.forced = a;
        break;
      }
  ack_action action;
  if (f.forced)
    action = *f.forced;
  else if (f.is_decode)
    action = ack_action::reject;  // a retry cannot fix a malformed body
  else if (f.retryable || policy == ack_policy::nack_on_error || rt.policies.retry)
    action = ack_action::nack;  // keep the input: the output was never written, or retry asked
  else if (policy == ack_policy::ack)
    action = ack_action::ack;
  else
    action = ack_action::reject;
  if (f.is_decode)
    stats.decode_errors += weight(*j);
  // Under `manual` the core settles only what the user cannot: decode errors
  // (the handler never ran) and forced outcomes; unsettled ones are nacked.
  const bool core_settles =
      policy != ack_policy::manual || f.forced || f.is_decode || !msg.settled();
  // The broker's own delivery limit: a nack of its last delivery would leave the
  // message on the broker, never delivered again and never counted. Give up instead.
  const auto broker_limit = rt.caps.native_max_deliveries ? rt.caps.max_deliveries : 0u;
  if (core_settles && !msg.settled() && action == ack_action::nack && broker_limit > 0 &&
      msg.delivery().attempt >= broker_limit && msg.raw()->ack) {
    msg.logger().warn("{}: {} (delivery {} of the broker's {}: its last)", f.type, f.text,
                      msg.delivery().attempt, broker_limit);
    give_up(self, std::move(j), msg.delivery().attempt, f);
    return;
  }
  if (core_settles && !msg.settled() && action == ack_action::nack && rt.policies.retry) {
    auto& retry = *rt.policies.retry;
    auto attempt = msg.delivery().attempt + j->retries;
    if (retry.max_attempts > 0 && attempt >= retry.max_attempts) {
      give_up(self, std::move(j), attempt, f);
      return;
    }
    auto delay = retry.backoff.delay(attempt, random01());
    stats.retried += weight(*j);
    msg.logger().warn("{}: {} (attempt {}; retrying in {} ms)", f.type, f.text, attempt,
                      delay.count());
    if (rt.caps.delayed_nack && msg.raw()->ack) {
      msg.settle(ack_action::nack, delay);
      finish_job(self, std::move(j));
      return;
    }
    if (auto& through = rt.policies.retry_through; through && through->core) {
      // Back to the broker with the attempt and when it is due; acked once it is there.
      j->retry_delay = delay;
      republish(self, std::move(j), *through, attempt + 1, epoch_ms() + delay.count());
      return;
    }
    // The broker cannot wait for us: keep the message (and its credit) here.
    retry_in_process(self, std::move(j), delay);
    return;
  }
  // What would be rejected (a decode error, a failure without retries) goes to the
  // dead-letter publisher when there is one: kept, not dropped.
  if (core_settles && !msg.settled() && action == ack_action::reject && !f.forced &&
      rt.policies.dead_letter) {
    give_up(self, std::move(j), msg.delivery().attempt + j->retries, f);
    return;
  }
  bool settled_now = core_settles ? msg.settle(action) : false;
  if (f.forced && f.text.empty()) {
    msg.logger().info("Processed ({})", f.type);
  } else {
    auto how = msg.settled_as();
    const char* what = !settled_now && policy == ack_policy::ack_first ? "acked before processing"
                       : !settled_now                                  ? "settled by the handler"
                       : *how == ack_action::reject                    ? "rejected"
                       : *how == ack_action::nack                      ? "nacked"
                                                                       : "acked";
    msg.logger().error("{}: {} (message {}; broker id {})", f.type, f.text, what,
                       msg.delivery().broker_id.empty() ? "-" : msg.delivery().broker_id);
  }
  finish_job(self, std::move(j));
}

/// Tells the subscriber which messages finished, once per mailbox message.
void flush_done(handler_actor* self) {
  auto& done = self->state.done;
  if (!done.empty()) {
    self->send(self->state.subscriber, done_atom::value, std::move(done));
    done.clear();
  }
}

/// All publishes of `out` are confirmed (or failed): settle the job.
void on_published(handler_actor* self, std::unique_ptr<job> j) {
  if (j->at == stage::republishing) {
    auto& msg = *j->msg;
    if (j->publish_error) {
      msg.logger().warn("republishing the retry failed ({}); retrying in process",
                        j->publish_error.to_string());
      j->publish_error = {};
      auto delay = j->retry_delay;
      retry_in_process(self, std::move(j), delay);
      return;
    }
    msg.settle(ack_action::ack);
    j->republished = true;
    finish_job(self, std::move(j));
    return;
  }
  if (j->at == stage::dead_lettering) {
    auto& rt = *self->state.rt;
    auto& msg = *j->msg;
    if (j->publish_error) {
      // Not dead-lettered: keep the message on the broker if it can, else count it.
      msg.settle(ack_action::nack);
      msg.logger().error("gave up ({}), and the dead-letter publish failed: {}", j->give_up_reason,
                         j->publish_error.to_string());
    } else {
      msg.settle(ack_action::ack);
      j->dead_lettered = true;
      msg.logger().error("gave up ({}); dead-lettered to '{}'", j->give_up_reason,
                         rt.policies.dead_letter->address);
    }
    finish_job(self, std::move(j));
    return;
  }
  settle_job(self, std::move(j));
}

void publish_all(handler_actor* self, std::unique_ptr<job> j, std::vector<outgoing> out,
                 std::vector<broker_core*> cores, std::size_t observed) {
  auto& rt = *self->state.rt;
  if (j->at != stage::dead_lettering && j->at != stage::republishing) {
    j->at = stage::publishing;
    for (auto& m : out)
      for (auto& mw : rt.chain)
        mw->on_publish(m);
  }
  auto& gate = *self->state.gate;
  const auto id = j->id;
  const auto run = j->run;
  gate.thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
  gate.inline_left = out.size();
  gate.inline_error = {};
  gate.inline_job.store(id + 1, std::memory_order_release);
  // Completions come back by id and attempt, never by pointer.
  auto g = self->state.gate;
  auto make_done = [&g, id, run](publish_probe* probe, publish_trace_ptr span) {
    // The probe and the start time ride in the same capture: no extra allocation.
    auto since = probe ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    return [g, id, run, probe, since, span = std::move(span)](const error_info& e) {
      if (probe)
        probe->published(1, std::chrono::steady_clock::now() - since,
                         e ? to_string(e.code) : std::string_view{});
      if (span)
        span->end(e ? to_string(e.code) : std::string_view{});
      if (g->inline_job.load(std::memory_order_acquire) == id + 1 &&
          std::this_thread::get_id() == g->thread.load(std::memory_order_relaxed)) {
        if (e)
          g->inline_error = e;
        --g->inline_left;
        return;
      }
      if (auto target = caf::actor_cast<caf::actor>(g->self))
        caf::anon_send(target, published_atom::value, id, run, e.message, static_cast<int>(e.code));
    };
  };
  j->publishes_left = out.size();
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto* core = cores.empty() ? rt.core.get() : cores[k];
    auto* probe = k < observed ? core->probe_for(out[k].channel) : nullptr;
    publish_callback done =
        make_done(probe, probe ? probe->trace(out[k], j->trace.get()) : nullptr);
    if (auto err = core->check_size(out[k]))
      done(err);
    else
      core->get_transport()->publish(std::move(out[k]), std::move(done));
  }
  gate.inline_job.store(0, std::memory_order_release);
  // What completed inline is settled; the rest arrives as published_atom.
  j->publishes_left = gate.inline_left;
  if (gate.inline_error)
    j->publish_error = std::move(gate.inline_error);
  if (j->publishes_left == 0)
    on_published(self, std::move(j));
  else
    self->state.pending.emplace(id, std::move(j));
}

/// Publishes the result to the handler's publishers and to reply_to.
void finish(handler_actor* self, std::unique_ptr<job> j, reply r) {
  auto& rt = *self->state.rt;
  auto& msg = *j->msg;
  auto& publishers = rt.decl->publishers;
  const bool reply_to = !msg.reply_to().empty();
  const std::size_t targets = (r.has_body ? publishers.size() : 0) + (reply_to ? 1 : 0);
  if (targets == 0) {
    settle_job(self, std::move(j));
    return;
  }
  std::vector<outgoing> out(targets);
  std::vector<broker_core*> cores;  // empty: all through the subscriber's broker
  std::string correlation_id =
      r.correlation_id.empty() ? std::string{msg.correlation_id()} : std::move(r.correlation_id);
  for (std::size_t k = 0; k < targets; ++k) {
    auto& m = out[k];
    const bool last = k + 1 == targets;
    if (r.has_body && k < publishers.size()) {
      m.channel = publishers[k]->address;
      m.driver = publishers[k]->driver;
      if (publishers[k]->core && publishers[k]->core != rt.core) {
        cores.resize(targets, rt.core.get());  // a publisher of another broker
        cores[k] = publishers[k]->core.get();
      }
    } else {
      m.channel = msg.reply_to();  // replies use the default kind (FastStream's rule)
    }
    // The last target takes the encoded result; the others copy it.
    m.body = last ? std::move(r.data) : r.data;
    m.content_type = last ? std::move(r.content_type) : r.content_type;
    m.headers = last ? std::move(r.headers) : r.headers;
    m.correlation_id = last ? std::move(correlation_id) : correlation_id;
  }
  publish_all(self, std::move(j), std::move(out), std::move(cores),
              r.has_body ? publishers.size() : 0);
}

void on_result(handler_actor* self, std::unique_ptr<job> j, call_result r) {
  if (r.error) {
    j->error = r.error;
    settle_job(self, std::move(j));
    return;
  }
  finish(self, std::move(j), std::move(r.value));
}

/// Runs `call` inside every consume scope, outermost first. A scope that throws
/// before the handler ran makes its exception the result; one that never calls
/// `next` skips the handler (processed, no result).
void run_scoped(const std::vector<middleware::around*>& scopes, message& msg,
                const std::function<void()>& call, std::optional<call_result>& r) {
  bool called = false;
  std::function<void(std::size_t)> enter = [&](std::size_t k) {
    if (k == scopes.size()) {
      called = true;
      call();
      return;
    }
    scopes[k]->consume_scope(msg, [&enter, k] { enter(k + 1); });
  };
  try {
    enter(0);
  } catch (...) {
    if (!called) {
      r = call_result{{}, std::current_exception()};
      return;
    }
    // Thrown after the handler ran: its result stands.
  }
  if (!called)
    r = call_result{};
}

void run_job(handler_actor* self, std::unique_ptr<job> j) {
  auto& rt = *self->state.rt;
  auto& msg = *j->msg;
  j->at = stage::running;
  j->error = nullptr;
  j->publish_error = {};
  j->hooked = true;
  try {
    for (auto& m : rt.chain)
      m->on_receive(msg);
  } catch (...) {
    j->error = std::current_exception();
    settle_job(self, std::move(j));
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
    msg.logger().warn("no handler's filter accepted the message; rejected");
    settle_job(self, std::move(j));
    return;
  }
  auto self_handle = caf::actor_cast<caf::actor>(self);
  const auto id = j->id;
  const auto run = j->run;
  std::optional<call_result> r;
  auto call = [&] {
    // A task handler resumes here (a traced one with its trace current again).
    resumer_scope coroutines{
        self,
        j->trace ? std::make_shared<actor_resumer>(self->address(), j->trace) : self->state.resumer,
        j->trace};
    r = h->invoke(msg, self->state.env, [self_handle, id, run](call_result res) {
      caf::anon_send(self_handle, complete_atom::value, id, run,
                     std::make_shared<call_result>(std::move(res)));
    });
  };
  if (rt.scopes.empty())
    call();
  else
    run_scoped(rt.scopes, msg, call, r);
  if (r) {
    on_result(self, std::move(j), std::move(*r));
    return;
  }
  self->state.pending.emplace(id, std::move(j));
  if (auto t = rt.policies.timeout; t.count() > 0)
    self->delayed_send(self, t, timeout_atom::value, id, run);
}

/// Tells the shared middlewares that admitted `j`'s run how it ended (once).
void release_gates(handler_actor* self, job& j, middleware::run_outcome how) {
  auto& gates = self->state.rt->gates;
  for (std::size_t k = 0; k < j.admitted; ++k)
    self->send(gates[k], settled_atom::value, j.query, static_cast<std::uint8_t>(how));
  j.admitted = 0;
}

void ask_gate(handler_actor* self, std::unique_ptr<job> j);
std::unique_ptr<job> take(handler_actor* self, std::uint64_t id, std::uint32_t run, stage at);

/// A gate's answer for `j`'s run.
void on_admission(handler_actor* self, std::unique_ptr<job> j, middleware::admission& a) {
  using v = middleware::admission::verdict;
  auto& rt = *self->state.rt;
  const auto id = j->id;
  const auto run = j->run;
  if (a.what == v::proceed) {
    ++j->admitted;
    j->admit_delay = std::max(j->admit_delay, a.delay);
    if (++j->gate_at < rt.gates.size()) {
      ask_gate(self, std::move(j));
    } else if (j->admit_delay.count() > 0) {
      j->at = stage::admit_delay;
      auto delay = j->admit_delay;
      self->state.pending.emplace(id, std::move(j));
      self->delayed_send(self, delay, admitted_atom::value, id, run);
    } else {
      run_job(self, std::move(j));
    }
    return;
  }
  // Not admitted: the gates that did admit it hear that this run is abandoned.
  release_gates(self, *j, middleware::run_outcome::abandoned);
  auto& msg = *j->msg;
  switch (a.what) {
    case v::proceed: break;
    case v::wait:
      j->at = stage::admit_wait;
      self->state.pending.emplace(id, std::move(j));
      self->delayed_send(self, std::max(a.delay, std::chrono::milliseconds{1}),
                         admitted_atom::value, id, run);
      return;
    case v::skip:
      rt.stats->skipped += weight(*j);
      j->skipped = true;
      msg.logger().info("skipped by a middleware ({}); acked", a.reason);
      msg.settle(ack_action::ack);
      finish_job(self, std::move(j));
      return;
    case v::refuse:
      j->error = std::make_exception_ptr(admission_refused{"refused by a middleware: " + a.reason});
      settle_job(self, std::move(j));
      return;
  }
}

void ask_gate(handler_actor* self, std::unique_ptr<job> j) {
  auto& rt = *self->state.rt;
  j->at = stage::admitting;
  const auto id = j->id;
  const auto run = j->run;
  auto gate = rt.gates[j->gate_at];
  auto q = j->query;
  self->state.pending.emplace(id, std::move(j));
  auto answer = [self, id, run](middleware::admission a) {
    if (auto held = take(self, id, run, stage::admitting)) {
      on_admission(self, std::move(held), a);
      flush_done(self);
    }
  };
  self->request(gate, caf::infinite, admit_atom::value, std::move(q))
      .then([answer](middleware::admission& a) { answer(std::move(a)); },
            [answer](caf::error&) {
              answer(middleware::admission::refuse("the middleware's actor is gone"));
            });
}

/// Runs `j` once every shared middleware admits it (at once when there are none).
void start_run(handler_actor* self, std::unique_ptr<job> j) {
  auto& st = self->state;
  if (st.rt->gates.empty()) {
    run_job(self, std::move(j));
    return;
  }
  auto& msg = *j->msg;
  j->query = std::make_shared<middleware::admission_query>(
      msg.raw(), st.rt->decl->spec.address, msg.delivery().attempt + j->retries, ++st.next_run);
  j->gate_at = 0;
  j->admitted = 0;
  j->admit_delay = {};
  ask_gate(self, std::move(j));
}

/// A retry republished by `retry_through`: its attempt number, and how long it
/// is still to wait (0 = due).
std::chrono::milliseconds read_retry_headers(const subscriber_runtime& rt, envelope& env) {
  auto number = [](const std::string* v, auto& out) {
    return v && std::from_chars(v->data(), v->data() + v->size(), out).ec == std::errc{};
  };
  std::uint32_t attempt = 0;
  if (number(env.headers.find("x-brook-attempt"), attempt) && attempt > env.delivery.attempt)
    env.delivery.attempt = attempt;
  std::int64_t due = 0;
  if (!number(env.headers.find("x-brook-retry-at"), due))
    return std::chrono::milliseconds{0};
  auto now = epoch_ms();
  // Bounded by the policy's longest wait: a clock skew or a bogus header cannot park it for long.
  auto longest =
      rt.policies.retry ? 2 * rt.policies.retry->backoff.max : std::chrono::milliseconds{60000};
  return std::clamp(std::chrono::milliseconds{due - now}, std::chrono::milliseconds{0}, longest);
}

/// Runs the message `id` (with a batch's `more` ids), after `wait` when it is a
/// republished retry not yet due.
void begin(handler_actor* self, std::uint64_t id, const std::vector<std::uint64_t>& more,
           envelope_ptr env, std::chrono::milliseconds wait) {
  auto& rt = *self->state.rt;
  auto j = self->state.make_job(id);
  j->more_ids.assign(more.begin(), more.end());
  if (rt.probe) {
    j->received_at = std::chrono::steady_clock::now();
    j->trace = rt.probe->trace(*env);
  }
  std::vector<std::pair<std::string, std::string>> path;
  if (rt.has_path_params)
    path = extract_path(rt.decl->spec.address, env->channel);
  logger log{rt.log,
             {env->channel, env->message_id, env->correlation_id, rt.decl->spec.address,
              j->trace ? j->trace->trace_id() : std::string_view{}}};
  j->msg.emplace(std::move(env), std::move(log), &j->ctx, std::move(path));
  auto& msg = *j->msg;
  if (rt.log->should_log(spdlog::level::info))
    msg.logger().info("Received");
  if (rt.decl->options.ack == ack_policy::ack_first)
    msg.settle(ack_action::ack);
  if (wait.count() > 0) {  // a republished retry that is not due yet: hold it (and its credit)
    j->at = stage::waiting_retry;
    auto run = j->run;
    self->state.pending.emplace(id, std::move(j));
    self->delayed_send(self, wait, retry_atom::value, id, run);
    return;
  }
  start_run(self, std::move(j));
}

/// The attempt count of a republished retry is every subscriber's to see
/// (message::delivery); a header-less delivery, the common case, costs one check.
std::chrono::milliseconds retry_wait(const subscriber_runtime& rt, envelope& env) {
  return env.headers.empty() ? std::chrono::milliseconds{0} : read_retry_headers(rt, env);
}

/// Takes `env` for this handler: false when its subscriber gave it back first,
/// or when the app's stop gave up on the drain (then this handler gives it back).
bool claim(handler_actor* self, std::uint64_t id, envelope& env) {
  auto& st = self->state;
  if (!env.claim.take(id))
    return false;
  if (!st.rt->abandoning())
    return true;
  ++(give_back(*st.rt, env, drop_reason::stopped) ? st.lost : st.returned);
  st.done.push_back(id);
  return false;
}

void process(handler_actor* self, std::uint64_t id, envelope_ptr env) {
  auto& rt = *self->state.rt;
  if (!claim(self, id, *env))
    return;
  ++rt.stats->received;
  if (rt.probe)
    rt.probe->received(env->body.size(), 1);
  auto wait = retry_wait(rt, *env);
  begin(self, id, {}, std::move(env), wait);
}

/// A batch subscriber's messages in runs of at most `options.batch`, one call each.
void process_batches(handler_actor* self, handle_batch& batch) {
  auto& rt = *self->state.rt;
  const auto max = rt.decl->options.batch;
  auto& items = batch.items;
  std::vector<std::uint64_t> more;
  for (std::size_t at = 0; at < items.size(); at += max) {
    const auto end = std::min(items.size(), at + max);
    std::vector<envelope_ptr> members;
    members.reserve(end - at);
    more.clear();
    std::uint64_t first = 0;
    auto wait = std::chrono::milliseconds{0};
    for (auto k = at; k < end; ++k) {
      if (!claim(self, items[k].first, *items[k].second))
        continue;
      wait = std::max(wait, retry_wait(rt, *items[k].second));
      if (members.empty())
        first = items[k].first;
      else
        more.push_back(items[k].first);
      members.push_back(std::move(items[k].second));
    }
    if (members.empty())
      continue;
    rt.stats->received += members.size();
    if (rt.probe) {
      std::size_t bytes = 0;
      for (auto& e : members)
        bytes += e->body.size();
      rt.probe->received(bytes, members.size());
    }
    begin(self, first, more, make_batch(std::move(members)), wait);
  }
}

/// The job `id` at attempt `run` waiting in `at`, taken out of `pending`.
std::unique_ptr<job> take(handler_actor* self, std::uint64_t id, std::uint32_t run, stage at) {
  auto& pending = self->state.pending;
  auto i = pending.find(id);
  if (i == pending.end() || i->second->run != run || i->second->at != at)
    return nullptr;
  auto j = std::move(i->second);
  pending.erase(i);
  return j;
}

caf::behavior handler_impl(handler_actor* self, runtime_ptr rt, caf::actor subscriber,
                           std::shared_ptr<subscriber_link> link) {
  self->state.rt = rt;
  self->state.link = std::move(link);
  self->state.subscriber = std::move(subscriber);
  self->state.resumer = std::make_shared<actor_resumer>(self->address());
  self->state.gate->self = self->address();
  self->state.env.codec = &rt->decl->options.codec;
  self->state.env.deps = rt->decl->deps.get();
  self->state.env.record = rt->decl->record_call;
  return {
      [=](handle_atom, handle_batch& batch) {
        if (self->state.rt->decl->options.batch > 0)
          process_batches(self, batch);
        else
          for (auto& [id, env] : batch.items)
            process(self, id, std::move(env));
        flush_done(self);
      },
      [=](complete_atom, std::uint64_t id, std::uint32_t run, result_ptr& r) {
        if (auto j = take(self, id, run, stage::running)) {
          on_result(self, std::move(j), std::move(*r));
          flush_done(self);
        }
      },
      [=](timeout_atom, std::uint64_t id, std::uint32_t run) {
        if (auto j = take(self, id, run, stage::running)) {
          ++j->run;  // the late result, if any, is ignored
          j->error = std::make_exception_ptr(handler_timeout{
              "no result within " + std::to_string(self->state.rt->policies.timeout.count()) +
              " ms (subscriber timeout)"});
          settle_job(self, std::move(j));
          flush_done(self);
        }
      },
      [=](resume_atom, std::uint64_t handle) {
        resumer_scope coroutines{self, self->state.resumer};
        actor_resumer::decode(handle).resume();
        flush_done(self);
      },
      [=](resume_atom, std::uint64_t handle, const delivery_trace_ptr& trace) {
        resumer_scope coroutines{self, std::make_shared<actor_resumer>(self->address(), trace),
                                 trace};
        actor_resumer::decode(handle).resume();
        flush_done(self);
      },
      [=](drain_atom) {
        // A drain: retries waiting here would be lost with a subscription that cannot
        // keep them; with `retry_through` they go back to the broker as they are.
        auto& st = self->state;
        auto& through = st.rt->policies.retry_through;
        if (!through || !through->core)
          return;
        std::vector<std::uint64_t> waiting;
        for (auto& [id, j] : st.pending)
          if (j->at == stage::waiting_retry)
            waiting.push_back(id);
        for (auto id : waiting) {
          auto node = st.pending.extract(id);
          auto j = std::move(node.mapped());
          ++j->run;  // the timer's retry_atom finds nothing
          auto attempt = j->msg->delivery().attempt + j->retries;
          republish(self, std::move(j), *through, attempt, std::nullopt);
        }
        flush_done(self);
      },
      [=](retry_atom, std::uint64_t id, std::uint32_t run) {
        if (auto j = take(self, id, run, stage::waiting_retry)) {
          j->ctx = {};
          start_run(self, std::move(j));
          flush_done(self);
        }
      },
      [=](admitted_atom, std::uint64_t id, std::uint32_t run) {
        if (auto j = take(self, id, run, stage::admit_delay)) {
          run_job(self, std::move(j));
          flush_done(self);
        } else if (auto w = take(self, id, run, stage::admit_wait)) {
          w->gate_at = 0;
          w->admit_delay = {};
          ask_gate(self, std::move(w));
          flush_done(self);
        }
      },
      [=](published_atom, std::uint64_t id, std::uint32_t run, std::string& text, int code) {
        auto& pending = self->state.pending;
        auto i = pending.find(id);
        if (i == pending.end() || i->second->run != run ||
            (i->second->at != stage::publishing && i->second->at != stage::dead_lettering &&
             i->second->at != stage::republishing))
          return;
        auto& j = *i->second;
        if (code != 0)
          j.publish_error = {static_cast<errc>(code), std::move(text)};
        if (--j.publishes_left == 0) {
          auto node = std::move(i->second);
          pending.erase(i);
          on_published(self, std::move(node));
          flush_done(self);
        }
      },
  };
}

}  // namespace

caf::actor spawn_handler(caf::event_based_actor* parent, runtime_ptr rt, caf::actor subscriber,
                         std::shared_ptr<subscriber_link> link) {
  return rt->decl->options.blocking
             ? parent->spawn<caf::detached + caf::linked>(handler_impl, rt, std::move(subscriber),
                                                          std::move(link))
             : parent->spawn<caf::linked>(handler_impl, rt, std::move(subscriber), std::move(link));
}

}  // namespace brook::detail
