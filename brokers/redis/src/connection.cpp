#include "connection.hpp"

#include <hiredis/adapters/libevent.h>

#include <algorithm>
#include <memory>

namespace brook::redis {

struct connection::pending_op {
  connection* self;
  reply_fn fn;
};

namespace {

// CLIENT SETNAME refuses spaces and newlines; keys can contain anything.
std::string sanitize_client_name(std::string name) {
  for (auto& ch : name)
    if (ch <= ' ' || ch > '~')
      ch = '_';
  if (name.size() > 120)
    name.resize(120);
  return name;
}

std::string text(const redisReply* r) {
  return r && r->str ? std::string{r->str, r->len} : std::string{};
}

}  // namespace

connection::connection(event_loop& loop, const endpoint& ep, const settings& cfg, std::string name,
                       connection_events events, connection_set* all)
    : loop_(loop),
      ep_(ep),
      cfg_(cfg),
      name_(sanitize_client_name(std::move(name))),
      events_(std::move(events)),
      // The core's backoff (doubling, +-20% jitter), shared with restarts and retries.
      again_({cfg.reconnect_backoff_min, cfg.reconnect_backoff_max, 2.0, 0.2}),
      retry_timer_(loop, [this] { attempt(); }),
      connect_timer_(loop,
                     [this] {
                       fail_attempt({errc::connection_failed,
                                     "no answer within " +
                                         std::to_string(cfg_.connect_timeout.count()) + " ms"});
                     }),
      heartbeat_timer_(loop, [this] { heartbeat(); }),
      all_(all) {
  if (all_)
    all_->insert(this);
}

connection::~connection() {
  close();
  if (all_)
    all_->erase(this);
}

void connection::watch(std::function<void(const error_info&)> stalled) {
  on_stall_ = std::move(stalled);
  if (cfg_.stall_timeout.count() > 0 && cfg_.heartbeat.count() > 0)
    heartbeat_timer_.start(cfg_.heartbeat);
}

void connection::heartbeat() {
  heartbeat_timer_.start(cfg_.heartbeat);
  if (state_ != state::ready)
    return;
  auto now = std::chrono::steady_clock::now();
  if (stall_.check(now, in_flight_ > 0, cfg_.stall_timeout)) {
    error_info why{errc::stalled, "redis: " + ep_.host + ":" + std::to_string(ep_.port) +
                                      " has not answered " + std::to_string(in_flight_) +
                                      " command(s) for " +
                                      std::to_string(stall_.quiet_for(now).count()) +
                                      " ms (stall_timeout); dropping the connections"};
    report(why);
    if (on_stall_)
      on_stall_(why);  // drops this connection too
    return;
  }
  if (in_flight_ == 0)
    send_raw(
        {"PING"}, [](redisReply*) {}, false);
}

void connection::drop(const error_info& why) {
  if (state_ != state::ready && state_ != state::connecting)
    return;
  auto was = state_;
  if (auto* c = std::exchange(ctx_, nullptr)) {
    // Detached: the free below calls every pending reply with null (they are lost with
    // the connection) and must not run the disconnect callback.
    c->data = nullptr;
    redisAsyncFree(c);
  }
  if (was == state::ready)
    went_down(why);
  else
    fail_attempt(why);
}

void connection::open() {
  if (state_ == state::idle)
    attempt();
}

void connection::close() {
  if (state_ == state::closed)
    return;
  state_ = state::closed;
  retry_timer_.cancel();
  connect_timer_.cancel();
  heartbeat_timer_.cancel();
  if (auto* c = std::exchange(ctx_, nullptr)) {
    // Detach first: the free below runs the disconnect callback, which must not reconnect.
    c->data = nullptr;
    redisAsyncFree(c);
  }
}

void connection::attempt() {
  state_ = state::connecting;
  client_id_ = 0;
  auto* c = redisAsyncConnect(ep_.host.c_str(), ep_.port);
  if (!c || c->err) {
    error_info why{errc::connection_failed, c ? c->errstr : "out of memory"};
    if (c)
      redisAsyncFree(c);
    fail_attempt(std::move(why));
    return;
  }
  ctx_ = c;
  c->data = this;
  // Keep the read buffer between replies: by default hiredis drops it once it is empty and
  // over 16 KiB, and batched reads then regrow it reply after reply.
  c->c.reader->maxbuf = 0;
  redisLibeventAttach(c, loop_.base());
  redisAsyncSetConnectCallback(c, &connection::on_connect);
  redisAsyncSetDisconnectCallback(c, &connection::on_disconnect);
  // hiredis 0.14 has no async connect timeout; an unreachable host would hang for minutes.
  connect_timer_.start(cfg_.connect_timeout);
  handshake();
}

void connection::handshake() {
  auto step_failed = [this](const char* what) {
    return [this, what](redisReply* r) {
      // A null reply means this attempt already failed and was handled.
      if (r && r->type == REDIS_REPLY_ERROR)
        fail_attempt({errc::connection_failed, std::string{what} + ": " + text(r)});
    };
  };
  if (!ep_.password.empty()) {
    if (ep_.user.empty())
      send_raw({"AUTH", ep_.password}, step_failed("AUTH"), true);
    else
      send_raw({"AUTH", ep_.user, ep_.password}, step_failed("AUTH"), true);
  }
  auto db = cfg_.db >= 0 ? cfg_.db : ep_.db;
  if (db != 0) {
    auto n = std::to_string(db);
    send_raw({"SELECT", n}, step_failed("SELECT"), true);
  }
  // The name shows up in CLIENT LIST; the id lets a cancel unblock a blocked read. Both are
  // conveniences: an ACL user without CLIENT rights still connects (cancels then wait out
  // block_time).
  send_raw(
      {"CLIENT", "SETNAME", name_}, [](redisReply*) {}, true);
  send_raw(
      {"CLIENT", "ID"},
      [this](redisReply* r) {
        if (!r || state_ != state::connecting)
          return;
        client_id_ = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        connect_timer_.cancel();
        state_ = state::ready;
        stall_.reset(std::chrono::steady_clock::now());
        if (again_.attempts() > 0)
          report({errc::ok, "redis: connection '" + name_ + "' to " + ep_.host + ":" +
                                std::to_string(ep_.port) + " restored"});
        again_.reset();
        if (events_.ready)
          events_.ready();
      },
      true);
}

bool connection::send(command_args argv, reply_fn fn) {
  return ready() && send_raw(argv, std::move(fn), false);
}

bool connection::writable(bool handshake) const noexcept {
  // hiredis refuses commands on a context that is being torn down; the flags tell us before
  // its disconnect callback does.
  return ctx_ && !(ctx_->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING)) &&
         (handshake || state_ == state::ready);
}

bool connection::issue(redisCallbackFn* fn, void* privdata, command_args argv) {
  // Pointer and length arrays on the stack for ordinary commands: this runs per message.
  constexpr std::size_t small = 16;
  const char* ptr_buf[small];
  std::size_t len_buf[small];
  std::vector<const char*> ptr_vec;
  std::vector<std::size_t> len_vec;
  const char** ptrs = ptr_buf;
  std::size_t* lens = len_buf;
  auto n = argv.size();
  if (n > small) {
    ptr_vec.resize(n);
    len_vec.resize(n);
    ptrs = ptr_vec.data();
    lens = len_vec.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    ptrs[i] = argv.data()[i].data();
    lens[i] = argv.data()[i].size();
  }
  return redisAsyncCommandArgv(ctx_, fn, privdata, static_cast<int>(n), ptrs, lens) == REDIS_OK;
}

bool connection::send_raw(command_args argv, reply_fn fn, bool handshake) {
  if (!writable(handshake))
    return false;
  auto op = std::make_unique<pending_op>(pending_op{this, std::move(fn)});
  if (!issue(&connection::on_reply, op.get(), argv))
    return false;
  op.release();
  ++in_flight_;
  return true;
}

bool connection::send_ordered(std::string_view resp) {
  if (!writable(false) || redisAsyncFormattedCommand(ctx_, &connection::on_ordered, this,
                                                     resp.data(), resp.size()) != REDIS_OK)
    return false;
  ++in_flight_;
  return true;
}

bool connection::send_subscribe(command_args argv) {
  // Subscription callbacks fire once per message, so their private data is the connection
  // itself rather than a one-shot op; they are not counted in flight.
  return writable(false) && issue(&connection::on_push, this, argv);
}

void connection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<pending_op> op{static_cast<pending_op*>(privdata)};
  --op->self->in_flight_;
  op->self->stall_.answered();
  op->fn(static_cast<redisReply*>(reply));
}

void connection::on_ordered(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<connection*>(privdata);
  --self->in_flight_;
  self->stall_.answered();
  self->events_.ordered(static_cast<redisReply*>(reply));
}

void connection::on_push(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<connection*>(privdata);
  if (reply && self->events_.push)
    self->events_.push(static_cast<redisReply*>(reply));
}

void connection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<connection*>(ac->data);
  if (!self || status == REDIS_OK)
    return;
  // hiredis frees the context right after this callback. Its `errstr` pointer is only set
  // after this callback; the context's own buffer already holds the reason.
  self->ctx_ = nullptr;
  self->fail_attempt({errc::connection_failed, ac->c.errstr});
}

void connection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<connection*>(ac->data);
  if (!self)
    return;
  self->ctx_ = nullptr;
  error_info why{errc::disconnected,
                 status == REDIS_OK || !*ac->c.errstr ? "closed by the server" : ac->c.errstr};
  if (self->state_ == state::ready)
    self->went_down(std::move(why));
  else if (self->state_ == state::connecting)
    self->fail_attempt(std::move(why));
}

void connection::fail_attempt(error_info why) {
  if (state_ == state::closed || state_ == state::waiting)
    return;
  connect_timer_.cancel();
  state_ = state::waiting;
  client_id_ = 0;
  if (auto* c = std::exchange(ctx_, nullptr)) {
    c->data = nullptr;
    redisAsyncFree(c);
  }
  auto now = std::chrono::steady_clock::now();
  if (again_.attempts() == 0 || now - last_failure_report_ >= cfg_.reconnect_backoff_max) {
    last_failure_report_ = now;
    report({errc::connection_failed, "redis: connection '" + name_ + "' to " + ep_.host + ":" +
                                         std::to_string(ep_.port) + " failed: " + why.message +
                                         "; retrying with backoff"});
  }
  schedule_retry();
}

void connection::went_down(error_info why) {
  state_ = state::waiting;
  client_id_ = 0;
  report({errc::disconnected, "redis: connection '" + name_ + "' to " + ep_.host + ":" +
                                  std::to_string(ep_.port) + " lost: " + why.message +
                                  "; reconnecting"});
  last_failure_report_ = std::chrono::steady_clock::now();
  if (events_.lost)
    events_.lost(why);
  schedule_retry();
}

void connection::schedule_retry() {
  retry_timer_.start(again_.next());
}

void connection::report(error_info e) {
  if (events_.report)
    events_.report(e);
}

}  // namespace brook::redis
