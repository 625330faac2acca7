#include <algorithm>

#include "consumers.hpp"
#include "envelope.hpp"

namespace brook::redis {

namespace {

std::string_view str(const redisReply* r) {
  return r && r->str ? std::string_view{r->str, r->len} : std::string_view{};
}

}  // namespace

channel_consumer::channel_consumer(engine& eng, subscription_spec spec,
                                   std::shared_ptr<delivery_sink> sink, bool unbounded)
    : consumer(eng, std::move(spec), std::move(sink)),
      bound_(eng.cfg().pubsub_buffer),
      policy_(eng.cfg().pubsub_overflow) {
  unbounded_ = unbounded;  // otherwise Redis pushes regardless: a bounded buffer, overflow counted
  if (!spec_.driver.empty() && !spec_.driver.get<channel>())
    option_error_ = {
        errc::invalid_argument,
        "redis subscription '" + spec_.address + "': a " + std::string{spec_.driver.protocol()} +
            " " + std::string{spec_.driver.kind()} +
            " declaration is not one Redis subscribes with (use brook::redis::channel, "
            "list or stream; list_out and stream_out are publish targets)"};
  else if (!spec_.group.empty())
    option_error_ = {
        errc::invalid_argument,
        "redis subscription '" + spec_.address +
            "': pub/sub has no consumer groups (use brook::redis::stream with a group)"};
  else if (spec_.address.empty())
    option_error_ = {errc::invalid_argument, "redis subscription: the channel is empty"};
}

void channel_consumer::start() {
  if (option_error_)
    return fail(option_error_);
  eng_.hub().add(std::static_pointer_cast<channel_consumer>(shared_from_this()));
}

void channel_consumer::offer(envelope_ptr env) {
  if (cancelled_) {
    if (!retired_)
      deliver(std::move(env));  // pushed before the unsubscribe took effect: ours to finish
    return;
  }
  if (buffer_.empty() && take_credit())
    return deliver(std::move(env));
  if (buffer_.size() < bound_) {
    buffer_.push_back(std::move(env));
    return;
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  if (policy_ == overflow_policy::drop_oldest && bound_ > 0) {
    buffer_.pop_front();
    buffer_.push_back(std::move(env));
  }
  auto now = clock::now();
  if (now - last_report_ >= std::chrono::seconds{1}) {
    last_report_ = now;
    eng_.report({errc::overflow,
                 "redis: pub/sub subscription '" + spec_.address + "' has dropped " +
                     std::to_string(dropped_.load()) + " messages so far (buffer of " +
                     std::to_string(bound_) + " full, policy " +
                     (policy_ == overflow_policy::drop_oldest ? "drop_oldest" : "drop_newest") +
                     "): the handler is slower than the publishers"});
  }
}

void channel_consumer::kick() {
  while (!cancelled_ && !buffer_.empty() && take_credit()) {
    auto env = std::move(buffer_.front());
    buffer_.pop_front();
    deliver(std::move(env));
  }
}

void channel_consumer::cancel() {
  if (cancelled_)
    return;
  cancelled_ = true;
  const bool wait =
      eng_.hub().remove(std::static_pointer_cast<channel_consumer>(shared_from_this()));
  // Pub/sub cannot give messages back: what the buffer holds was taken from Redis, so it
  // goes to the core now, past the credit (a drain finishes it; a stopped subscriber
  // counts it as lost). So does what arrives until the server confirms the unsubscribe.
  while (!buffer_.empty()) {
    auto env = std::move(buffer_.front());
    buffer_.pop_front();
    deliver(std::move(env));
  }
  if (!wait)
    retire_now();
}

void pubsub_hub::add(const std::shared_ptr<channel_consumer>& c) {
  auto& map = c->is_pattern() ? patterns_ : channels_;
  auto& subs = map[c->address()];
  subs.push_back(c);
  if (!conn_) {
    conn_ = eng_.make_connection("sub", {.ready = [this] { on_ready(); },
                                         .lost = [this](const error_info& e) { on_lost(e); },
                                         .push = [this](redisReply* r) { on_push(r); }});
    conn_->open();
    return;
  }
  if (subs.size() == 1)
    conn_->send_subscribe({c->is_pattern() ? "PSUBSCRIBE" : "SUBSCRIBE", c->address()});
  else if ((c->is_pattern() ? confirmed_patterns_ : confirmed_).contains(c->address()))
    c->confirmed();  // the server already confirmed this name for a sibling
}

bool pubsub_hub::remove(const std::shared_ptr<channel_consumer>& c) {
  auto& map = c->is_pattern() ? patterns_ : channels_;
  auto it = map.find(c->address());
  if (it == map.end())
    return false;
  std::erase_if(it->second, [&c](const auto& x) { return x == c; });
  if (!it->second.empty())
    return false;
  map.erase(it);
  auto& confirmed = c->is_pattern() ? confirmed_patterns_ : confirmed_;
  const bool was_live = confirmed.erase(c->address()) > 0;
  if (!conn_)
    return false;
  if (!conn_->send_subscribe({c->is_pattern() ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", c->address()}))
    return false;
  if (!was_live || !conn_->ready())
    return false;  // nothing can be on its way for it
  (c->is_pattern() ? leaving_patterns_ : leaving_channels_)[c->address()].push_back(c);
  return true;
}

void pubsub_hub::left(consumer_map& leaving, std::string_view name) {
  auto it = leaving.find(std::string{name});
  if (it == leaving.end())
    return;
  auto subs = std::move(it->second);
  leaving.erase(it);
  for (auto& c : subs)
    c->left();
}

void pubsub_hub::retire_leaving() {
  for (auto* map : {&leaving_channels_, &leaving_patterns_}) {
    auto all = std::move(*map);
    map->clear();
    for (auto& [name, subs] : all)
      for (auto& c : subs)
        c->left();
  }
}

void pubsub_hub::close() {
  conn_.reset();
  retire_leaving();
  channels_.clear();
  patterns_.clear();
  confirmed_.clear();
  confirmed_patterns_.clear();
}

void pubsub_hub::on_lost(const error_info& e) {
  confirmed_.clear();
  confirmed_patterns_.clear();
  retire_leaving();  // nothing more can come for them
  // Pub/sub keeps nothing for absent subscribers: everything live has a gap now.
  for (auto* map : {&channels_, &patterns_})
    for (auto& [name, subs] : *map)
      for (auto& c : subs) {
        c->gap({errc::disconnected, "redis: the pub/sub connection dropped (" + e.message +
                                        "); what is published to '" + name +
                                        "' until it is back is never seen"});
        c->interrupted(e);
      }
}

void pubsub_hub::on_ready() {
  // One command per kind re-subscribes everything after a reconnect.
  for (auto [map, verb] :
       {std::pair{&channels_, "SUBSCRIBE"}, std::pair{&patterns_, "PSUBSCRIBE"}}) {
    if (map->empty())
      continue;
    std::vector<std::string_view> argv{verb};
    for (auto& [name, subs] : *map)
      argv.push_back(name);
    conn_->send_subscribe(argv);
  }
}

void pubsub_hub::on_push(redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
    return;
  auto kind = str(r->element[0]);
  if (kind == "message") {
    auto channel = str(r->element[1]);
    dispatch(channels_, leaving_channels_, std::string{channel}, channel, str(r->element[2]), {});
  } else if (kind == "pmessage" && r->elements >= 4) {
    auto pattern = str(r->element[1]);
    dispatch(patterns_, leaving_patterns_, std::string{pattern}, str(r->element[2]),
             str(r->element[3]), pattern);
  } else if (kind == "subscribe") {
    confirmed_.emplace(str(r->element[1]));
    confirm(channels_, str(r->element[1]));
    eng_.on_subscribed();
  } else if (kind == "psubscribe") {
    confirmed_patterns_.emplace(str(r->element[1]));
    confirm(patterns_, str(r->element[1]));
  } else if (kind == "unsubscribe") {
    left(leaving_channels_, str(r->element[1]));
  } else if (kind == "punsubscribe") {
    left(leaving_patterns_, str(r->element[1]));
  }
}

void pubsub_hub::confirm(consumer_map& map, std::string_view name) {
  auto it = map.find(std::string{name});
  if (it == map.end())
    return;
  auto subs = it->second;
  for (auto& c : subs)
    c->confirmed();
}

void pubsub_hub::dispatch(consumer_map& map, consumer_map& leaving, const std::string& key,
                          std::string_view channel, std::string_view data,
                          std::string_view pattern) {
  auto it = map.find(key);
  const std::vector<std::shared_ptr<channel_consumer>>* targets =
      it == map.end() ? nullptr : &it->second;
  std::vector<std::shared_ptr<channel_consumer>> with_leaving;
  if (!leaving.empty()) {  // rare: a drain waits for its unsubscribe; it still takes its copy
    if (auto l = leaving.find(key); l != leaving.end()) {
      with_leaving = l->second;
      if (targets)
        with_leaving.insert(with_leaving.end(), targets->begin(), targets->end());
      targets = &with_leaving;
    }
  }
  if (!targets || targets->empty())
    return;
  auto env = std::make_shared<envelope>();
  bool malformed = decode_envelope(data, *env) == envelope_format::malformed_binary;
  env->channel.assign(channel);
  env->delivery.broker_id.assign(channel);
  env->metadata.emplace("kind", "channel");
  if (!pattern.empty())
    env->metadata.emplace("pattern", std::string{pattern});
  if (malformed)  // once, by the first subscription; a pattern's names the channel
    targets->front()->warn_malformed(channel);
  if (targets->size() == 1) {
    auto only = targets->front();  // offer() may cancel it, which edits the vector
    only->offer(std::move(env));
    return;
  }
  // Each subscription owns its envelope (handlers may move out of it); copy for all but one.
  auto subs = *targets;
  for (std::size_t i = 0; i + 1 < subs.size(); ++i)
    subs[i]->offer(std::make_shared<envelope>(*env));
  subs.back()->offer(std::move(env));
}

}  // namespace brook::redis
