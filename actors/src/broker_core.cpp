#include "broker_core.hpp"

#include <brook/publisher.hpp>

#include <condition_variable>
#include <cstdint>
#include <random>

namespace brook::detail {

std::string new_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto hi = rng();
  auto lo = rng();
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
  void deliver(envelope_ptr env) override {
    std::promise<envelope_ptr> p;
    {
      std::lock_guard lock{mtx};
      auto i = waiting.find(env->correlation_id);
      if (i == waiting.end())
        return;  // a reply after its request timed out: nobody to give it to
      p = std::move(i->second);
      waiting.erase(i);
    }
    p.set_value(std::move(env));
  }
  void failed(error_info) override {}

  std::mutex mtx;
  std::unordered_map<std::string, std::promise<envelope_ptr>> waiting;
};

std::shared_ptr<transport> broker_core::swap_transport(std::shared_ptr<transport> t) {
  std::lock_guard lock{mtx_};
  std::swap(t, transport_);
  reply_address_.clear();
  replies_.reset();
  return t;
}

void broker_core::send(outgoing m, publish_callback done) {
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
  std::future<envelope_ptr> reply;
  {
    std::lock_guard lock{sink->mtx};
    reply = sink->waiting[m.correlation_id].get_future();
  }
  auto corr = m.correlation_id;
  auto channel = m.channel;
  if (auto err = publish_now(shared_from_this(), std::move(m))) {
    std::lock_guard lock{sink->mtx};
    sink->waiting.erase(corr);
    throw request_error{err.code, "request to '" + channel + "' failed: " + err.to_string()};
  }
  if (reply.wait_for(timeout) != std::future_status::ready) {
    std::lock_guard lock{sink->mtx};
    sink->waiting.erase(corr);
    throw request_error{errc::timeout, "no reply from '" + channel + "' within "
                                         + std::to_string(timeout.count())
                                         + " ms (correlation_id " + corr
                                         + "); is a subscriber running on it?"};
  }
  return reply.get();
}

error_info publish_now(const std::shared_ptr<broker_core>& core, outgoing m) {
  if (!core)
    return {errc::invalid_argument, "publisher to '" + m.channel
                                      + "' is not attached to a broker: include its router first"};
  // The waiter lives on this stack: the callback runs exactly once before we
  // return (synchronously for in-process transports, so no wait at all).
  struct waiter {
    std::mutex mtx;
    std::condition_variable cv;
    bool done = false;
    error_info result;
  } w;
  core->send(std::move(m), [&w](const error_info& e) {
    std::lock_guard lock{w.mtx};
    w.result = e;
    w.done = true;
    w.cv.notify_one();
  });
  std::unique_lock lock{w.mtx};
  w.cv.wait(lock, [&] { return w.done; });
  return w.result;
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
