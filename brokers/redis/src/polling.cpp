#include <cstdio>

#include "consumers.hpp"
#include "envelope.hpp"
#include "resp.hpp"

namespace brook::redis {

namespace {

std::string_view str(const redisReply* r) {
  return r && r->str ? std::string_view{r->str, r->len} : std::string_view{};
}

// Errors after which the same read can succeed a little later (a restarting server, a busy
// script, a failover); anything else is a configuration problem and fails the subscription.
bool transient(std::string_view err) {
  for (std::string_view prefix : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"})
    if (err.starts_with(prefix))
      return true;
  return false;
}

}  // namespace

polling_consumer::polling_consumer(engine& eng, subscription_spec spec,
                                   std::shared_ptr<delivery_sink> sink, std::size_t batch,
                                   std::optional<std::chrono::milliseconds> block)
    : consumer(eng, std::move(spec), std::move(sink)),
      batch_(batch ? batch : eng.cfg().read_batch),
      block_(block.value_or(eng.cfg().block_time)) {
  if (spec_.address.empty())
    option_error_ = {errc::invalid_argument, "redis " + kind() + " subscription: the key is empty"};
  else if (block_.count() < 0)
    option_error_ = {errc::invalid_argument, "redis " + kind() + " subscription '" + spec_.address +
                                                 "': block is negative"};
  else if (batch_ == 0)
    option_error_ = {errc::invalid_argument, "redis subscription '" + spec_.address +
                                                 "': settings.read_batch must be >= 1"};
}

void polling_consumer::start() {
  if (option_error_)
    return fail(option_error_);
  if (cancelled_)
    return;
  conn_ = eng_.make_connection(kind() + "-" + spec_.address,
                               {.ready =
                                    [this] {
                                      on_connected();
                                      pump();
                                    },
                                .lost = [this](const error_info& e) { interrupted(e); },
                                .push = {}});
  retry_ = std::make_unique<timer>(eng_.loop(), [this] { pump(); });
  conn_->open();
}

void polling_consumer::pump() {
  if (cancelled_)
    return;
  while (!backlog_empty() && take_credit()) {
    deliver_front();
    if (cancelled_)
      return;
  }
  if (!backlog_empty() || reading_ || !conn_ || !conn_->ready() || retry_->armed())
    return;
  auto credit = credit_.load(std::memory_order_acquire);
  if (credit > 0)
    read(std::min(credit, batch_));
}

void polling_consumer::read_ahead(std::size_t arrived) {
  if (cancelled_ || reading_ || !backlog_empty() || !conn_ || !conn_->ready() || retry_->armed())
    return;
  auto credit = credit_.load(std::memory_order_acquire);
  if (credit > arrived)
    read(std::min(credit - arrived, batch_));
}

void polling_consumer::issue(command_args argv, bool blocking,
                             std::function<void(redisReply*)> handler) {
  reading_ = true;
  blocking_ = blocking;
  auto self = shared_from_this();  // outlive the reply, even after cancel and retire
  bool sent = conn_->send(argv, [this, self, handler = std::move(handler)](redisReply* r) {
    reading_ = false;
    blocking_ = false;
    // A null reply: the connection dropped; reading resumes when it is ready again. A cancel
    // raised while the handler runs (a failing sink) waits until the whole reply is taken, so
    // its remaining elements reach the backlog before on_finished() returns them.
    handling_ = true;
    if (r)
      handler(r);
    else if (!cancelled_)
      on_read_lost();
    handling_ = false;
    if (cancelled_)
      maybe_finish();
    else if (r && !reading_)
      pump();
  });
  if (!sent) {
    reading_ = blocking_ = false;
    return;
  }
  // The first read is out: from now on a published message reaches this subscription.
  auto verb = argv.size() == 0 ? std::string_view{} : argv.data()[0];
  if (verb != "XGROUP" && verb != "XREVRANGE")
    confirmed();
}

void polling_consumer::on_error_reply(std::string_view what, const redisReply* r) {
  auto err = str(r);
  if (transient(err))
    return retry_->start(eng_.cfg().reconnect_backoff_min);
  fail({errc::invalid_argument, "redis " + kind() + " subscription '" + spec_.address +
                                    "': " + std::string{what} + " failed: " + std::string{err}});
}

void polling_consumer::cancel() {
  if (cancelled_)
    return;
  cancelled_ = true;
  // Do not wait out BLPOP/XREAD BLOCK: wake it so whatever it popped comes back now.
  if (blocking_ && conn_)
    eng_.unblock(conn_->client_id());
  maybe_finish();
}

void polling_consumer::shutdown() {
  cancelled_ = true;
  auto conn = std::move(conn_);
  conn.reset();  // an outstanding read completes with null right here
  retry_.reset();
  maybe_finish();
}

void polling_consumer::maybe_finish() {
  if (!cancelled_ || reading_ || handling_ || finishing_)
    return;
  finishing_ = true;
  on_finished();
  if (conn_)
    conn_->close();
  // We may be inside this connection's callback: hiredis frees the context when it returns,
  // and the objects go on a later turn of the loop (libevent state must die on its thread).
  std::shared_ptr<connection> conn{std::move(conn_)};
  std::shared_ptr<timer> retry{std::move(retry_)};
  eng_.loop().post([conn, retry] {});
  retire_now();
}

list_consumer::list_consumer(engine& eng, subscription_spec spec,
                             std::shared_ptr<delivery_sink> sink, const list& l)
    : polling_consumer(eng, std::move(spec), std::move(sink), l.batch, l.block) {
  if (spec_.pattern && !option_error_)
    option_error_ = {errc::invalid_argument,
                     "redis list subscription '" + spec_.address +
                         "': lists have no patterns (subscribe to each key)"};
  if (!spec_.group.empty() && !option_error_)
    option_error_ = {errc::invalid_argument, "redis list subscription '" + spec_.address +
                                                 "': lists have no consumer groups (consumers "
                                                 "of one list already compete)"};
}

void list_consumer::on_read_lost() {
  // The server may have popped items into the reply that never arrived: a gap that
  // Redis cannot size (a stream with a group has no such gap).
  gap({errc::disconnected, "redis: the connection dropped with a pop of list '" + spec_.address +
                               "' in flight; what it popped, if anything, is lost (Redis cannot "
                               "say how much)"});
}

void list_consumer::read(std::size_t n) {
  if (!blmpop_)
    return legacy_read(n);
  // BLMPOP (Redis 7): up to n elements in one round trip, waiting only when the list is empty.
  auto count = std::to_string(n);
  issue({"BLMPOP", block_seconds(), "1", spec_.address, "LEFT", "COUNT", count}, true,
        [this, n](redisReply* r) {
          if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[1]->type == REDIS_REPLY_ARRAY) {
            auto* items = r->element[1];
            if (n > 1 && items->elements == n)  // a full batch: more is likely waiting
              read_ahead(items->elements);
            for (std::size_t i = 0; i < items->elements; ++i)
              take(str(items->element[i]));
          } else if (r->type == REDIS_REPLY_ERROR && str(r).starts_with("ERR unknown command")) {
            blmpop_ = false;  // Redis < 7: LPOP count + BLPOP instead
            if (!cancelled_)
              legacy_read(n);
          } else if (r->type != REDIS_REPLY_NIL) {  // nil: timed out or unblocked
            on_error_reply("BLMPOP", r);
          }
        });
}

std::string list_consumer::block_seconds() const {
  char timeout[32];
  std::snprintf(timeout, sizeof timeout, "%.3f", static_cast<double>(block_.count()) / 1000.0);
  return timeout;
}

void list_consumer::legacy_read(std::size_t n) {
  if (batch_ == 1)
    return blocking_pop();
  auto count = std::to_string(n);
  issue({"LPOP", spec_.address, count}, false, [this](redisReply* r) {
    if (r->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < r->elements; ++i)
        take(str(r->element[i]));
    } else if (r->type == REDIS_REPLY_NIL) {
      if (!cancelled_)
        blocking_pop();  // empty: wait for the next element instead of polling
    } else {
      on_error_reply("LPOP", r);
    }
  });
}

void list_consumer::blocking_pop() {
  issue({"BLPOP", spec_.address, block_seconds()}, true, [this](redisReply* r) {
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
      take(str(r->element[1]));
    else if (r->type != REDIS_REPLY_NIL)  // nil: timed out or unblocked
      on_error_reply("BLPOP", r);
  });
}

void list_consumer::take(std::string_view raw) {
  // Reads never ask for more than the credit, so the backlog is only for a cancel mid-read.
  if (backlog_.empty() && !cancelled_ && take_credit())
    deliver_raw(raw);
  else
    backlog_.emplace_back(raw);
}

void list_consumer::deliver_raw(std::string_view raw) {
  auto env = std::make_shared<envelope>();
  if (decode_envelope(raw, *env) == envelope_format::malformed_binary)
    warn_malformed(spec_.address);
  env->channel = spec_.address;
  env->delivery.broker_id = spec_.address;
  env->metadata.emplace("kind", "list");
  deliver(std::move(env));
}

void list_consumer::deliver_front() {
  auto raw = std::move(backlog_.front());
  backlog_.pop_front();
  deliver_raw(raw);
}

void list_consumer::on_finished() {
  if (backlog_.empty())
    return;
  // Popped but never delivered: put them back at the head, in their original order.
  command c;
  append_array_header(c.resp, 2 + backlog_.size());
  append_bulk(c.resp, "LPUSH");
  append_bulk(c.resp, spec_.address);
  for (auto it = backlog_.rbegin(); it != backlog_.rend(); ++it)
    append_bulk(c.resp, *it);
  auto n = backlog_.size();
  backlog_.clear();
  auto self = shared_from_this();
  c.done = driver::completion{[this, self, n](const error_info& e) {
    if (!e)
      return;
    dropped_.fetch_add(n, std::memory_order_relaxed);
    eng_.report({errc::overflow, "redis: list subscription '" + spec_.address + "' lost " +
                                     std::to_string(n) +
                                     " popped but undelivered messages: " + e.message});
  }};
  eng_.submit(std::move(c));
}

}  // namespace brook::redis
