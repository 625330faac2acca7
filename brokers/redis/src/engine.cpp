#include "engine.hpp"

#include <unistd.h>

#include <brook/detail/ids.hpp>
#include <cstdio>
#include <cstdlib>

#include "consumers.hpp"
#include "envelope.hpp"
#include "resp.hpp"

namespace brook::redis {

namespace {

constexpr std::chrono::milliseconds housekeeping_period{100};

// The handle the core holds. It keeps the consumer alive, never the engine.
class subscription_handle final : public subscription {
public:
  subscription_handle(std::weak_ptr<engine> eng, std::shared_ptr<consumer> c)
      : eng_(std::move(eng)), consumer_(std::move(c)) {}
  ~subscription_handle() override {
    if (auto e = eng_.lock())
      e->post([c = consumer_] { c->cancel(); });
  }
  void request(std::size_t n) override {
    if (n == 0 || consumer_->add_credit(n) != 0)
      return;
    // Only the 0 -> n transition needs the loop: with credit left it is still reading.
    if (auto e = eng_.lock())
      e->post([c = consumer_] { c->kick(); });
  }
  std::size_t dropped() const noexcept override { return consumer_->dropped(); }
  brook::capabilities capabilities() const noexcept override { return consumer_->caps(); }
  bool reports_ready() const noexcept override { return true; }
  void cancel(std::function<void()> done) override {
    auto e = eng_.lock();
    if (!e || !e->post([c = consumer_, done] {
          c->cancel();
          c->when_retired(done);
        })) {
      if (done)
        done();  // the loop is gone: nothing can be delivered any more
    }
  }

private:
  std::weak_ptr<engine> eng_;
  std::shared_ptr<consumer> consumer_;
};

error_info closed_error() {
  return {errc::closed, "redis: the transport is closed"};
}

}  // namespace

consumer::consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink)
    : eng_(eng), spec_(std::move(spec)), sink_(std::move(sink)) {
  if (!spec_.driver.capabilities(caps_))
    caps_ = channel{}.capabilities();  // no typed spec: a pub/sub channel
}

bool consumer::take_credit() noexcept {
  if (unbounded_)
    return true;
  if (credit_.load(std::memory_order_acquire) == 0)
    return false;
  credit_.fetch_sub(1, std::memory_order_acq_rel);
  return true;
}

void consumer::deliver(envelope_ptr env) {
  // The sink is the core's; an exception must not unwind through hiredis' C frames.
  try {
    sink_->deliver(std::move(env));
  } catch (const std::exception& ex) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // the envelope in hand is gone
    fail({errc::handler_failed, "redis: delivery sink threw: " + std::string{ex.what()}});
  } catch (...) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    fail({errc::handler_failed, "redis: delivery sink threw"});
  }
}

void consumer::confirmed() {
  if (live_)
    return;
  live_ = confirmed_ = true;
  sink_->subscribed();
}

void consumer::interrupted(const error_info& why) {
  if (!live_ || cancelled_)
    return;
  live_ = false;
  sink_->interrupted(why);
}

void consumer::gap(const error_info& why) {
  if (confirmed_ && !cancelled_)
    sink_->gap(why);
}

void consumer::when_retired(std::function<void()> f) {
  if (!f)
    return;
  if (retired_)
    return f();
  on_retired_.push_back(std::move(f));
}

void consumer::retire_now() {
  if (retired_)
    return;
  retired_ = true;
  eng_.retire(this);
  auto waiting = std::move(on_retired_);
  on_retired_.clear();
  for (auto& f : waiting)
    f();
}

void consumer::warn_malformed(std::string_view where, std::string_view id) {
  ++malformed_unreported_;
  auto now = clock::now();
  if (malformed_seen_ && now - malformed_reported_ < std::chrono::minutes{1})
    return;
  std::string msg = "redis: " + kind() + " '" + std::string{where} + "'";
  if (!id.empty())
    msg += " entry " + std::string{id};
  msg +=
      ": payload starts like a FastStream binary envelope but does not parse (truncated, "
      "another format version, or header lengths that fit neither as bytes nor as "
      "characters); delivered as raw bytes without headers";
  if (malformed_unreported_ > 1)
    msg += " (" + std::to_string(malformed_unreported_) + " such payloads since the last warning)";
  malformed_seen_ = true;
  malformed_reported_ = now;
  malformed_unreported_ = 0;
  eng_.report({errc::decode_failed, std::move(msg)});
}

void consumer::fail(error_info err) {
  if (failed_)
    return;
  failed_ = true;
  sink_->failed(std::move(err));
  cancel();
}

engine::engine(const settings& s)
    : cfg_(s),
      waiting_({.max = cfg_.max_queued, .timeout = cfg_.queued_timeout}),
      housekeeping_(loop_, [this] { expire_waiting(); }),
      shutdown_timer_(loop_, [this] { check_shutdown(); }) {
  config_error_ = parse_url(cfg_.url, ep_);
  if (!config_error_ && cfg_.reconnect_backoff_min.count() <= 0)
    config_error_ = {errc::invalid_argument, "redis: reconnect_backoff_min must be > 0"};
  if (!config_error_ && cfg_.reconnect_backoff_max < cfg_.reconnect_backoff_min)
    config_error_ = {errc::invalid_argument,
                     "redis: reconnect_backoff_max must be >= reconnect_backoff_min"};
  if (!config_error_ && cfg_.read_batch == 0)
    config_error_ = {errc::invalid_argument, "redis: read_batch must be >= 1"};
  loop_.set_after_drain([this] { flush_acks(); });
}

engine::~engine() {
  close();
  // The loop thread is joined: connections a subscription handle still holds must not
  // reach back into this set.
  for (auto* c : connections_)
    c->detach();
}

std::string engine::url() const {
  auto db = cfg_.db >= 0 ? cfg_.db : ep_.db;
  auto host = ep_.host.find(':') != std::string::npos ? "[" + ep_.host + "]" : ep_.host;
  return "redis://" + host + ":" + std::to_string(ep_.port) + "/" + std::to_string(db);
}

void engine::ensure_thread() {
  std::lock_guard guard{life_mutex_};
  if (started_ || closing_)
    return;
  started_ = true;
  loop_.post([this] {
    cmd_ = make_connection("cmd", {.ready =
                                       [this] {
                                         {
                                           std::lock_guard g{life_mutex_};
                                           connected_ = true;
                                         }
                                         connected_cv_.notify_all();
                                         link(std::exchange(ever_connected_, true)
                                                  ? connection_event::kind::restored
                                                  : connection_event::kind::connected);
                                         flush_waiting();
                                       },
                                   .lost =
                                       [this](const error_info& why) {
                                         {
                                           std::lock_guard g{life_mutex_};
                                           connected_ = false;
                                         }
                                         link(connection_event::kind::lost, why);
                                       },
                                   .push = {},
                                   .ordered = [this](redisReply* r) { on_command_reply(r); }});
    cmd_->watch([this](const error_info& why) { stalled(why); });
    cmd_->open();
  });
  thread_ = std::thread([this] { loop_.run(); });
}

error_info engine::start() {
  if (config_error_)
    return config_error_;
  if (closing_)
    return closed_error();
  ensure_thread();
  std::unique_lock lock{life_mutex_};
  if (connected_cv_.wait_for(lock, cfg_.connect_timeout, [this] { return connected_; }))
    return {};
  return {errc::connection_failed, "redis: could not connect to " + url() + " within " +
                                       std::to_string(cfg_.connect_timeout.count()) + " ms" +
                                       (last_error_.empty() ? "" : " (" + last_error_ + ")") +
                                       "; still retrying in the background"};
}

void engine::close() {
  bool started = false;
  {
    std::lock_guard guard{life_mutex_};
    if (!closing_.exchange(true) && started_)
      loop_.post([this] { begin_shutdown(); });
    started = started_;
  }
  if (!started || loop_.in_loop())
    return;  // from a callback on the loop thread: the destructor joins later
  std::lock_guard guard{join_mutex_};
  if (thread_.joinable())
    thread_.join();
}

std::unique_ptr<connection> engine::make_connection(const std::string& role, connection_events ev) {
  ev.report = [this](const error_info& e) { report(e); };
  return std::make_unique<connection>(loop_, ep_, cfg_, cfg_.client_name + "-" + role,
                                      std::move(ev), &connections_);
}

void engine::stalled(const error_info& why) {
  link(connection_event::kind::stalled, why);
  drop_all(why);
}

void engine::drop_all(const error_info& why) {
  // A copy: dropping runs callbacks that may create or destroy connections.
  std::vector<connection*> all{connections_.begin(), connections_.end()};
  for (auto* c : all)
    if (connections_.contains(c))
      c->drop(why);
}

error_info engine::restart() {
  if (config_error_)
    return config_error_;
  if (closing_ || !post([this] {
        drop_all({errc::disconnected, "redis: restarting the transport"});
      }))
    return closed_error();
  return {};
}

void engine::report(const error_info& e) {
  if (e.code == errc::connection_failed || e.code == errc::disconnected) {
    std::lock_guard guard{life_mutex_};
    last_error_ = e.message;
  }
  if (cfg_.on_event)
    cfg_.on_event(e);
}

void engine::publish(outgoing msg, publish_callback done) {
  auto fail = [&](error_info e) {
    if (done)
      done(e);
  };
  if (config_error_)
    return fail(config_error_);
  if (closing_)
    return fail(closed_error());

  // What to send: PUBLISH (no typed target, or a channel), RPUSH or XADD.
  std::string_view kind = "channel";
  std::string maxlen;
  if (auto* ch = msg.driver.get<channel>()) {
    if (ch->pattern)
      return fail({errc::invalid_argument,
                   "redis publish to '" + msg.channel + "': cannot publish to a pattern"});
  } else if (msg.driver.get<list_out>()) {
    kind = "list";
  } else if (auto* st = msg.driver.get<stream_out>()) {
    kind = "stream";
    if (st->maxlen)
      maxlen = std::to_string(st->maxlen);
  } else if (!msg.driver.empty()) {
    return fail(
        {errc::invalid_argument,
         "redis publish to '" + msg.channel + "': a " + std::string{msg.driver.protocol()} + " " +
             std::string{msg.driver.kind()} +
             " target is not one Redis publishes to (use brook::redis::channel, list_out or "
             "stream_out)"});
  }
  if (msg.channel.empty())
    return fail({errc::invalid_argument, "redis publish: the channel is empty"});
  // The envelope goes to a per-thread scratch buffer and from there straight into the
  // formatted command: one allocation per publish on this thread, none on the loop.
  thread_local std::string wire;
  if (auto err = encode_envelope(msg, wire))
    return fail(std::move(err));
  command c;
  auto& resp = c.resp;
  resp.reserve(wire.size() + msg.channel.size() + maxlen.size() + 96);
  if (kind == "stream") {
    append_array_header(resp, maxlen.empty() ? 5 : 8);
    append_bulk(resp, "XADD");
    append_bulk(resp, msg.channel);
    if (!maxlen.empty()) {
      append_bulk(resp, "MAXLEN");
      append_bulk(resp, "~");
      append_bulk(resp, maxlen);
    }
    append_bulk(resp, "*");
    append_bulk(resp, stream_data_field);
  } else {
    append_array_header(resp, 3);
    append_bulk(resp, kind == "channel" ? "PUBLISH" : "RPUSH");
    append_bulk(resp, msg.channel);
    if (kind == "list")
      c.value_at = resp.size();
  }
  append_bulk(resp, wire);
  if (!msg.reply_to.empty() && is_reply_channel(msg.reply_to)) {
    c.gate = std::move(msg.reply_to);
    c.value_at = 0;
  }
  c.done = driver::completion{std::move(done)};
  ensure_thread();
  bool first;
  {
    std::lock_guard guard{inbox_mutex_};
    first = inbox_.empty();
    inbox_.push_back(std::move(c));
  }
  // The first publish of a batch wakes the loop; the rest ride along. If the loop is gone,
  // drain here so every callback still fires (with `closed`).
  if (first && !post([this] { drain_inbox(); }))
    drain_inbox();
}

bool engine::is_reply_channel(const std::string& name) {
  std::lock_guard guard{reply_mutex_};
  return reply_channels_.contains(name);
}

namespace {

/// `$5\r\nRPUSH\r\n$<n>\r\n<key>\r\n` of a mergeable command (after its array header).
std::string_view push_prefix(const command& c) {
  auto header_end = c.resp.find('\n') + 1;
  return std::string_view{c.resp}.substr(header_end, c.value_at - header_end);
}

/// Limits of one merged RPUSH: bounded memory and latency per command.
constexpr std::size_t max_merged_values = 1024;
constexpr std::size_t max_merged_bytes = 1 << 20;

}  // namespace

void engine::drain_inbox() {
  std::vector<command> batch;
  {
    std::lock_guard guard{inbox_mutex_};
    batch.swap(inbox_);
  }
  for (std::size_t i = 0; i < batch.size();) {
    // A run of RPUSHes to one key goes as one RPUSH with many values: Redis appends them in
    // order, atomically, and the one reply settles every publish of the run.
    std::size_t end = i + 1;
    if (batch[i].value_at != 0) {
      auto prefix = push_prefix(batch[i]);
      std::size_t bytes = batch[i].resp.size();
      while (end < batch.size() && end - i < max_merged_values && bytes < max_merged_bytes &&
             batch[end].value_at != 0 && push_prefix(batch[end]) == prefix)
        bytes += batch[end++].resp.size();
    }
    if (end == i + 1) {
      submit(std::move(batch[i++]));
      continue;
    }
    command merged;
    merged.resp.reserve(batch[i].resp.size() * (end - i));
    append_array_header(merged.resp, 2 + (end - i));
    merged.resp += push_prefix(batch[i]);
    auto dones = std::make_shared<std::vector<driver::completion>>();
    dones->reserve(end - i);
    for (; i < end; ++i) {
      auto& c = batch[i];
      merged.resp.append(c.resp, c.value_at);
      if (c.done)
        dones->push_back(std::move(c.done));
    }
    merged.done = driver::completion{[dones](const error_info& e) {
      for (auto& done : *dones)
        done(e);
    }};
    submit(std::move(merged));
  }
}

namespace {
std::shared_ptr<consumer> make_consumer(engine& eng, const subscription_spec& spec,
                                        std::shared_ptr<delivery_sink> sink) {
  if (auto* l = spec.driver.get<list>())
    return std::make_shared<list_consumer>(eng, spec, std::move(sink), *l);
  if (auto* s = spec.driver.get<stream>())
    return std::make_shared<stream_consumer>(eng, spec, std::move(sink), *s);
  // Also reports an unknown kind, through the sink like every subscription failure.
  return std::make_shared<channel_consumer>(eng, spec, std::move(sink), false);
}

class null_sink final : public delivery_sink {
public:
  void deliver(envelope_ptr) override {}
  void failed(error_info) override {}
};
}  // namespace

error_info engine::validate(const subscription_spec& spec) {
  if (config_error_)
    return config_error_;
  return make_consumer(*this, spec, std::make_shared<null_sink>())->option_error();
}

std::unique_ptr<subscription> engine::subscribe(const subscription_spec& spec,
                                                std::shared_ptr<delivery_sink> sink) {
  auto c = make_consumer(*this, spec, sink);
  if (config_error_ || closing_) {
    sink->failed(config_error_ ? config_error_ : closed_error());
    return std::make_unique<subscription_handle>(std::weak_ptr<engine>{}, c);
  }
  ensure_thread();
  if (!post([this, c] {
        if (phase_ != phase::running) {
          c->cancel();
          return;
        }
        consumers_.push_back(c);
        c->start();
      }))
    sink->failed(closed_error());
  return std::make_unique<subscription_handle>(weak_from_this(), c);
}

std::string engine::open_replies(std::shared_ptr<delivery_sink> sink) {
  auto name = "brook-reply-" + detail::new_uuid();
  subscription_spec spec{.address = name, .pattern = false, .group = {}, .driver = {}};
  auto c = std::make_shared<channel_consumer>(*this, spec, sink, true);
  if (config_error_ || closing_) {
    sink->failed(config_error_ ? config_error_ : closed_error());
    return name;
  }
  {
    std::lock_guard guard{reply_mutex_};
    reply_channels_.insert(name);
  }
  ensure_thread();
  if (!post([this, c] {
        if (phase_ != phase::running)
          return;
        consumers_.push_back(c);
        c->start();
      }))
    sink->failed(closed_error());
  return name;
}

bool engine::can_send(const command& c) const {
  return cmd_ && cmd_->ready() && (c.gate.empty() || hub_.confirmed(c.gate));
}

bool engine::send(command& c) {
  if (!cmd_->send_ordered(c.resp))
    return false;
  sent_.push_back(std::move(c));
  return true;
}

void engine::on_command_reply(redisReply* r) {
  auto c = std::move(sent_.front());
  sent_.pop_front();
  if (!r) {
    // Lost with the connection: it may have run, but at-least-once means sending it again.
    if (phase_ == phase::closed)
      c.done(closed_error());
    else
      hold(std::move(c));
    return;
  }
  if (r->type == REDIS_REPLY_ERROR)
    c.done({errc::publish_failed,
            "redis: " + describe_command(c.resp) + " failed: " + std::string{r->str, r->len}});
  else
    c.done({});
}

void engine::submit(command c) {
  if (phase_ == phase::closed)
    return c.done(closed_error());
  if (can_send(c) && send(c))
    return;
  hold(std::move(c));
}

void engine::hold(command c) {
  if (!waiting_.push(c))
    return c.done({errc::disconnected, "redis: " + describe_command(c.resp) +
                                           " not sent: " + std::to_string(waiting_.size()) +
                                           " commands already wait for the connection to " + url() +
                                           " (max_queued)"});
  if (!housekeeping_.armed())
    housekeeping_.start(housekeeping_period);
}

void engine::flush_waiting() {
  waiting_.flush([this](command& c) { return can_send(c) && send(c); });
}

void engine::expire_waiting() {
  flush_waiting();
  waiting_.expire([this](command& c) {
    std::string why;
    if (!c.gate.empty() && cmd_ && cmd_->ready())
      why = "the reply channel '" + c.gate + "' is not subscribed yet";
    else {
      std::lock_guard guard{life_mutex_};
      why = "no connection to " + url() + (last_error_.empty() ? "" : " (" + last_error_ + ")");
    }
    c.done({errc::disconnected, "redis: " + describe_command(c.resp) + " not sent within " +
                                    std::to_string(cfg_.queued_timeout.count()) + " ms: " + why});
  });
  if (!waiting_.empty())
    housekeeping_.start(housekeeping_period);
}

void engine::queue_ack(const std::string& key, const std::string& group, std::string id) {
  // The flush runs after a drain of posted tasks; from a reply callback, ask for one.
  if (acks_.empty())
    loop_.post([] {});
  acks_[{key, group}].push_back(std::move(id));
}

void engine::flush_acks() {
  if (acks_.empty())
    return;
  for (auto& [target, ids] : acks_) {
    command c;
    append_array_header(c.resp, 3 + ids.size());
    for (std::string_view a : {std::string_view{"XACK"}, std::string_view{target.first},
                               std::string_view{target.second}})
      append_bulk(c.resp, a);
    for (auto& id : ids)
      append_bulk(c.resp, id);
    submit(std::move(c));
  }
  acks_.clear();
}

void engine::unblock(long long client_id) {
  if (client_id <= 0 || !cmd_ || !cmd_->ready())
    return;  // the blocked read ends by itself within block_time
  auto id = std::to_string(client_id);
  cmd_->send({"CLIENT", "UNBLOCK", id}, [](redisReply*) {});
}

std::string engine::stable_consumer_name(const std::string& stream, const std::string& group) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "localhost");
  std::lock_guard lock{names_mutex_};
  auto n = ++consumer_names_[{stream, group}];
  auto name = std::string{"brook:"} + host + ":" + stream;
  // A fleet's workers (`run --workers N`) share the host: each keeps its own name, so a
  // restarted worker re-reads its own pending entries, not a live sibling's.
  if (const char* w = std::getenv("BROOK_WORKER_INDEX"); w && *w)
    name += std::string{":w"} + w;
  return n == 1 ? name : name + ":" + std::to_string(n);
}

void engine::retire(const consumer* c) {
  // Deferred: retire is reached from inside the consumer's own hiredis callbacks.
  loop_.post([this, c] {
    std::erase_if(consumers_, [c](const std::shared_ptr<consumer>& x) { return x.get() == c; });
  });
}

void engine::begin_shutdown() {
  phase_ = phase::closing;
  shutdown_deadline_ = clock::now() + cfg_.close_timeout;
  // Copy: cancel() may retire consumers, which edits the vector later in this drain.
  auto all = consumers_;
  for (auto& c : all)
    c->cancel();
  check_shutdown();
}

void engine::check_shutdown() {
  drain_inbox();
  flush_acks();
  bool idle = consumers_.empty() &&
              (!cmd_ || !cmd_->ready() || (cmd_->in_flight() == 0 && waiting_.empty()));
  if (!idle && clock::now() < shutdown_deadline_) {
    shutdown_timer_.start(std::chrono::milliseconds{5});
    return;
  }
  phase_ = phase::closed;
  housekeeping_.cancel();
  // Connections (and their libevent timers) must go before the loop does, even when the
  // core still holds a subscription handle.
  for (auto& c : consumers_)
    c->shutdown();
  consumers_.clear();
  hub_.close();
  cmd_.reset();  // in-flight commands complete with `closed`
  waiting_.clear([](command& c) { c.done(closed_error()); });
  loop_.stop();
}

}  // namespace brook::redis
