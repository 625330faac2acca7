#include "broker_core.hpp"

#include "handoff.hpp"

#include <brook/publisher.hpp>

#include <cstdint>
#include <random>

namespace brook::detail {

std::uint64_t random64() noexcept {
  // splitmix64 over a per-thread random seed: ids need uniqueness, not secrecy.
  thread_local std::uint64_t state = (std::uint64_t{std::random_device{}()} << 32)
                                     ^ std::random_device{}();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string new_uuid() {
  auto hi = random64();
  auto lo = random64();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  // Hand-formatted: snprintf was a visible share of a publish in profiles.
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(36, '-');
  int pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int k = nibbles - 1; k >= 0; --k) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
        ++pos;
      s[static_cast<std::size_t>(pos++)] = hex[(v >> (4 * k)) & 0xf];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return s;
}

class broker_core::reply_sink final : public delivery_sink {
public:
  using slot = std::shared_ptr<handoff<envelope_ptr>>;

  void deliver(envelope_ptr env) override {
    slot s;
    {
      std::lock_guard lock{mtx};
      auto i = waiting.find(env->correlation_id);
      if (i == waiting.end())
        return;  // a reply after its request timed out: nobody to give it to
      s = std::move(i->second);
      waiting.erase(i);
    }
    s->set(std::move(env));
  }
  void failed(error_info) override {}

  std::mutex mtx;
  std::unordered_map<std::string, slot> waiting;
};

std::shared_ptr<transport> broker_core::swap_transport(std::shared_ptr<transport> t) {
  std::lock_guard lock{mtx_};
  std::swap(t, transport_);
  reply_address_.clear();
  replies_.reset();
  return t;
}

error_info broker_core::check_size(const outgoing& m) const {
  if (m.body.size() <= max_body_bytes)
    return {};
  return {errc::invalid_argument, "publish to '" + m.channel + "': body of "
                                    + std::to_string(m.body.size())
                                    + " bytes exceeds the limit of "
                                    + std::to_string(max_body_bytes)
                                    + " bytes (raise it with broker.max_publish_bytes(n))"};
}

void broker_core::send(outgoing m, publish_callback done) {
  if (auto err = check_size(m)) {
    if (done)
      done(err);
    return;
  }
  if (m.correlation_id.empty())
    m.correlation_id = new_uuid();
  get_transport()->publish(std::move(m), std::move(done));
}

std::string broker_core::ensure_replies() {
  std::lock_guard lock{mtx_};
  if (reply_address_.empty()) {
    replies_ = std::make_shared<reply_sink>();
    reply_address_ = transport_->open_replies(replies_);
  }
  return reply_address_;
}

envelope_ptr broker_core::request(outgoing m, std::chrono::milliseconds timeout) {
  m.reply_to = ensure_replies();
  if (m.correlation_id.empty())
    m.correlation_id = new_uuid();
  std::shared_ptr<reply_sink> sink;
  {
    std::lock_guard lock{mtx_};
    sink = replies_;
  }
  auto reply = std::make_shared<handoff<envelope_ptr>>();
  {
    std::lock_guard lock{sink->mtx};
    sink->waiting[m.correlation_id] = reply;
  }
  auto corr = m.correlation_id;
  auto channel = m.channel;
  if (auto err = publish_now(shared_from_this(), std::move(m))) {
    std::lock_guard lock{sink->mtx};
    sink->waiting.erase(corr);
    throw request_error{err.code, "request to '" + channel + "' failed: " + err.to_string()};
  }
  auto env = reply->wait_for(timeout);
  if (!env) {
    std::lock_guard lock{sink->mtx};
    sink->waiting.erase(corr);
    throw request_error{errc::timeout, "no reply from '" + channel + "' within "
                                         + std::to_string(timeout.count())
                                         + " ms (correlation_id " + corr
                                         + "); is a subscriber running on it?"};
  }
  return std::move(*env);
}

error_info publish_now(const std::shared_ptr<broker_core>& core, outgoing m) {
  if (!core)
    return {errc::invalid_argument, "publisher to '" + m.channel
                                      + "' is not attached to a broker: include its router first"};
  // Shared with the callback: a spinning waiter may return while the
  // transport's thread is still inside `set`.
  auto done = std::make_shared<handoff<error_info>>();
  core->send(std::move(m), [done](const error_info& e) { done->set(e); });
  return *done->wait_for(std::chrono::hours{24 * 365});
}

void publish_later(const std::shared_ptr<broker_core>& core, outgoing m, publish_callback done) {
  if (!core) {
    done({errc::invalid_argument, "publisher to '" + m.channel + "' is not attached to a broker"});
    return;
  }
  core->send(std::move(m), std::move(done));
}

envelope_ptr request_now(const std::shared_ptr<broker_core>& core, outgoing m,
                         std::chrono::milliseconds timeout) {
  return core->request(std::move(m), timeout);
}

}  // namespace brook::detail
