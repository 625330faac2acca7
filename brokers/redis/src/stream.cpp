#include <brook/detail/ids.hpp>

#include "consumers.hpp"
#include "envelope.hpp"

namespace brook::redis {

namespace {

std::string_view str(const redisReply* r) {
  return r && r->str ? std::string_view{r->str, r->len} : std::string_view{};
}

// Settles one stream entry of a group. XACKs are posted to the loop, where one drain's worth
// is coalesced into one command per stream and group.
class stream_acknowledger final : public acknowledger {
public:
  stream_acknowledger(std::weak_ptr<engine> eng,
                      std::shared_ptr<const std::pair<std::string, std::string>> target,
                      std::string id)
      : eng_(std::move(eng)), target_(std::move(target)), id_(std::move(id)) {}
  void ack() override { settle(true); }
  /// Leaves the entry pending: XAUTOCLAIM (min_idle_ms) or a restart redelivers it.
  void nack() override { settle(false); }
  /// Acknowledges: rejected entries must not come back through XAUTOCLAIM.
  void reject() override { settle(true); }

private:
  void settle(bool remove) {
    if (settled_.exchange(true) || !remove)
      return;
    if (auto e = eng_.lock())
      e->post([e = e.get(), t = target_, id = id_] { e->queue_ack(t->first, t->second, id); });
  }
  std::weak_ptr<engine> eng_;
  std::shared_ptr<const std::pair<std::string, std::string>> target_;
  std::string id_;
  std::atomic<bool> settled_{false};
};

}  // namespace

stream_consumer::stream_consumer(engine& eng, subscription_spec spec,
                                 std::shared_ptr<delivery_sink> sink, const stream& st)
    : polling_consumer(eng, std::move(spec), std::move(sink), st.batch, st.block),
      group_(spec_.group) {
  start_id_ = st.last_id.empty() ? "$" : st.last_id;
  last_id_ = start_id_;
  auto_name_ = st.consumer.empty();
  consumer_name_ = st.consumer;
  no_ack_ = st.no_ack;
  // Claiming dead consumers' entries is the default wherever entries can be pending.
  const bool pending = !group_.empty() && !no_ack_;
  min_idle_ = st.min_idle.value_or(std::chrono::milliseconds{pending ? 60000 : 0});
  auto bad = [&](std::string why) {
    if (!option_error_)
      option_error_ = {errc::invalid_argument,
                       "redis stream subscription '" + spec_.address + "': " + std::move(why)};
  };
  if (spec_.pattern)
    bad("streams have no patterns (subscribe to each stream)");
  if (group_.empty()) {
    if (!st.consumer.empty())
      bad("consumer '" + st.consumer + "' needs a group (set .group)");
    if (st.no_ack)
      bad("no_ack needs a group (without one, reads are never acknowledged anyway)");
    if (min_idle_.count() > 0)
      bad("min_idle needs a group (only a group's entries become pending)");
  }
  if (min_idle_.count() < 0)
    bad("min_idle is negative");
  if (no_ack_ && min_idle_.count() > 0)
    bad("min_idle has nothing to claim with no_ack (entries never become pending)");
  // The seam's group is the one read with (a router may not change it, but a raw spec may).
  auto effective = st;
  effective.group = group_;
  caps_ = effective.capabilities();
  reading_pending_ = !group_.empty() && !no_ack_;
  pending_cursor_ = "0";
  ack_target_ = std::make_shared<const std::pair<std::string, std::string>>(spec_.address, group_);
}

void stream_consumer::start() {
  // Named at start, not at construction: a validation-only consumer takes no name.
  if (auto_name_ && !group_.empty() && !option_error_)
    consumer_name_ = eng_.stable_consumer_name(spec_.address, group_);
  polling_consumer::start();
}

void stream_consumer::on_connected() {
  // The group may have vanished with the server's data; XGROUP CREATE is idempotent for us.
  group_ready_ = false;
}

void stream_consumer::read(std::size_t n) {
  auto count = std::to_string(n);
  auto block = std::to_string(block_.count());
  if (group_.empty()) {
    if (last_id_ == "$") {
      // `$` re-sent with every XREAD would skip entries added between two reads: pin it to
      // the current last entry once.
      issue({"XREVRANGE", spec_.address, "+", "-", "COUNT", "1"}, false, [this](redisReply* r) {
        if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->elements > 0)
          last_id_ = str(r->element[0]->element[0]);
        else if (r->type == REDIS_REPLY_ARRAY)
          last_id_ = "0-0";
        else
          on_error_reply("XREVRANGE", r);
      });
      return;
    }
    issue({"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", spec_.address, last_id_}, true,
          [this](redisReply* r) {
            if (r->type == REDIS_REPLY_ERROR)
              on_error_reply("XREAD", r);
            else if (take_read_reply(r, false) > 0)
              last_id_ = last_seen_id_;
          });
    return;
  }
  if (!group_ready_)
    return create_group();
  if (min_idle_.count() > 0 && clock::now() >= next_claim_)
    return claim(n);
  auto on_error = [this](const char* what, redisReply* r) {
    if (str(r).starts_with("NOGROUP"))
      group_ready_ = false;  // deleted or lost with the data: create it again, from 0
    else
      on_error_reply(what, r);
  };
  if (reading_pending_) {
    // Our own entries that were delivered before a restart and never acknowledged.
    issue({"XREADGROUP", "GROUP", group_, consumer_name_, "COUNT", count, "STREAMS", spec_.address,
           pending_cursor_},
          false, [this, on_error](redisReply* r) {
            if (r->type == REDIS_REPLY_ERROR)
              return on_error("XREADGROUP", r);
            if (take_read_reply(r, true) == 0)
              reading_pending_ = false;
            else
              pending_cursor_ = last_seen_id_;
          });
    return;
  }
  std::vector<std::string_view> argv{"XREADGROUP", "GROUP", group_,  consumer_name_,
                                     "COUNT",      count,   "BLOCK", block};
  if (no_ack_)
    argv.emplace_back("NOACK");
  for (std::string_view a :
       {std::string_view{"STREAMS"}, std::string_view{spec_.address}, std::string_view{">"}})
    argv.push_back(a);
  issue(argv, true, [this, on_error](redisReply* r) {
    if (r->type == REDIS_REPLY_ERROR)
      return on_error("XREADGROUP", r);
    take_read_reply(r, false);
  });
}

void stream_consumer::create_group() {
  auto from = group_created_ ? std::string{"0"} : start_id_;
  issue({"XGROUP", "CREATE", spec_.address, group_, from, "MKSTREAM"}, false,
        [this](redisReply* r) {
          if (r->type == REDIS_REPLY_ERROR && !str(r).starts_with("BUSYGROUP")) {
            on_error_reply("XGROUP CREATE", r);
            return;
          }
          group_ready_ = true;
          group_created_ = true;
        });
}

void stream_consumer::claim(std::size_t n) {
  auto idle = std::to_string(min_idle_.count());
  auto count = std::to_string(n);
  issue({"XAUTOCLAIM", spec_.address, group_, consumer_name_, idle, claim_cursor_, "COUNT", count},
        false, [this](redisReply* r) {
          if (r->type == REDIS_REPLY_ERROR) {
            if (str(r).starts_with("NOGROUP"))
              group_ready_ = false;
            else
              on_error_reply("XAUTOCLAIM", r);
            return;
          }
          if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
            return;
          claim_cursor_ = str(r->element[0]);
          take_entries(r->element[1], true);
          // A full pass over the pending list: wait before the next one.
          if (claim_cursor_ == "0-0")
            next_claim_ = clock::now() + min_idle_;
        });
}

std::size_t stream_consumer::take_read_reply(const redisReply* r, bool redelivered) {
  if (r->type != REDIS_REPLY_ARRAY)
    return 0;  // nil: BLOCK timed out or was unblocked
  std::size_t n = 0;
  for (std::size_t i = 0; i < r->elements; ++i) {
    auto* per_stream = r->element[i];
    if (per_stream->type == REDIS_REPLY_ARRAY && per_stream->elements == 2)
      n += take_entries(per_stream->element[1], redelivered);
  }
  return n;
}

std::size_t stream_consumer::take_entries(const redisReply* arr, bool redelivered) {
  if (!arr || arr->type != REDIS_REPLY_ARRAY)
    return 0;
  for (std::size_t i = 0; i < arr->elements; ++i) {
    auto* e = arr->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
      continue;
    auto id = str(e->element[0]);
    last_seen_id_.assign(id);
    auto* kv = e->element[1];
    if (kv->type != REDIS_REPLY_ARRAY) {
      // A pending entry whose data was deleted (XDEL, MAXLEN): nothing to deliver, so clear it.
      if (!group_.empty() && !no_ack_)
        eng_.queue_ack(spec_.address, group_, std::string{id});
      continue;
    }
    scratch_.clear();
    for (std::size_t f = 0; f + 1 < kv->elements; f += 2)
      scratch_.emplace_back(str(kv->element[f]), str(kv->element[f + 1]));
    // Reads never ask for more than the credit; the backlog is only for a cancel mid-read.
    if (backlog_.empty() && !cancelled_ && take_credit()) {
      deliver_entry(id, scratch_, redelivered);
      continue;
    }
    entry en{std::string{id}, {}, redelivered};
    en.fields.assign(scratch_.begin(), scratch_.end());
    backlog_.push_back(std::move(en));
  }
  return arr->elements;
}

void stream_consumer::deliver_front() {
  auto en = std::move(backlog_.front());
  backlog_.pop_front();
  field_views fields(en.fields.begin(), en.fields.end());
  deliver_entry(en.id, fields, en.redelivered);
}

void stream_consumer::deliver_entry(std::string_view id, const field_views& fields,
                                    bool redelivered) {
  auto env = std::make_shared<envelope>();
  if (decode_stream_entry(fields, *env) == envelope_format::malformed_binary)
    warn_malformed(spec_.address, id);
  env->channel = spec_.address;
  auto& md = env->metadata;
  md.emplace("kind", "stream");
  md.emplace("stream_id", std::string{id});
  env->delivery.broker_id.assign(id);
  env->delivery.redelivered = redelivered;
  env->delivery.attempt = redelivered ? 2 : 1;  // at least; Redis counts in XPENDING
  if (!group_.empty()) {
    md.emplace("group", group_);
    md.emplace("consumer", consumer_name_);
    md.emplace("redelivered", redelivered ? "true" : "false");
    if (!no_ack_)
      env->ack = std::make_shared<stream_acknowledger>(eng_.weak_from_this(), ack_target_,
                                                       std::string{id});
  }
  deliver(std::move(env));
}

void stream_consumer::on_finished() {
  // With a group the fetched entries stay pending (claimable); NOACK entries are gone.
  if (!group_.empty() && no_ack_)
    dropped_.fetch_add(backlog_.size(), std::memory_order_relaxed);
  backlog_.clear();
}

}  // namespace brook::redis
