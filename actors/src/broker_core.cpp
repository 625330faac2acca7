#include "broker_core.hpp"

#include <atomic>
#include <brook/publisher.hpp>
#include <brook/task.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "handoff.hpp"

namespace brook::detail {

std::uint64_t random64() noexcept {
  // splitmix64 over a per-thread random seed: ids need uniqueness, not secrecy.
  thread_local std::uint64_t state =
      (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
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
  // Hand-formatted, a byte (two digits) at a time: snprintf was a visible share of a publish.
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(36, '-');
  char* out = s.data();
  auto put = [&](std::uint64_t v, int from_byte, int to_byte) {
    for (int b = from_byte; b < to_byte; ++b) {
      const auto byte = static_cast<unsigned>(v >> (8 * (7 - b % 8))) & 0xffU;
      *out++ = hex[byte >> 4];
      *out++ = hex[byte & 0xfU];
    }
  };
  // 8-4-4-4-12 hex digits: bytes 0-3, 4-5, 6-7 of `hi`, then 0-1, 2-7 of `lo`.
  put(hi, 0, 4);
  ++out;
  put(hi, 4, 6);
  ++out;
  put(hi, 6, 8);
  ++out;
  put(lo, 0, 2);
  ++out;
  put(lo, 2, 8);
  return s;
}

/// Requests waiting for their replies, by correlation id; whoever takes an
/// entry (the reply, the timeout, a failed publish) completes it, once.
class broker_core::reply_sink final : public delivery_sink {
public:
  using slot = std::function<void(envelope_ptr)>;  ///< null: no reply (timeout, failure)

  void deliver(envelope_ptr env) override {
    if (auto s = take(env->correlation_id))
      s(std::move(env));
    // else: a reply after its request timed out: nobody to give it to
  }
  void failed(error_info) override {}
  void add(const std::string& corr, slot s) {
    std::lock_guard lock{mtx};
    waiting[corr] = std::move(s);
  }
  slot take(const std::string& corr) {
    std::lock_guard lock{mtx};
    auto i = waiting.find(corr);
    if (i == waiting.end())
      return {};
    auto s = std::move(i->second);
    waiting.erase(i);
    return s;
  }

private:
  std::mutex mtx;
  std::unordered_map<std::string, slot> waiting;
};

namespace {
/// One thread for every async request's timeout in the process.
class timer_service {
public:
  static timer_service& instance() {
    static timer_service s;
    return s;
  }
  void after(std::chrono::milliseconds d, std::function<void()> f) {
    std::lock_guard lock{mtx_};
    due_.emplace(std::chrono::steady_clock::now() + d, std::move(f));
    if (!thread_.joinable())
      thread_ = std::thread([this] { run(); });
    cv_.notify_one();
  }
  ~timer_service() {
    {
      std::lock_guard lock{mtx_};
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable())
      thread_.join();
  }

private:
  void run() {
    std::unique_lock lock{mtx_};
    while (!stop_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = due_.begin();
      if (first->first > std::chrono::steady_clock::now()) {
        cv_.wait_until(lock, first->first);
        continue;
      }
      auto f = std::move(first->second);
      due_.erase(first);
      lock.unlock();
      f();
      lock.lock();
    }
  }
  std::mutex mtx_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  std::thread thread_;
  bool stop_ = false;
};
}  // namespace

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
  return {errc::invalid_argument,
          "publish to '" + m.channel + "': body of " + std::to_string(m.body.size()) +
              " bytes exceeds the limit of " + std::to_string(max_body_bytes) +
              " bytes (raise it with broker.max_publish_bytes(n))"};
}

void broker_core::send(outgoing m, publish_callback done) {
  auto* probe = probe_for(m.channel);
  for (auto& weak : publish_chain) {
    auto mw = weak.lock();
    if (!mw)
      continue;  // its app or broker is gone
    try {
      mw->on_publish(m);
    } catch (const std::exception& e) {
      if (done)
        done({errc::invalid_argument,
              "publish to '" + m.channel + "': a middleware's on_publish threw: " + e.what()});
      return;
    }
  }
  if (auto err = check_size(m)) {
    if (done)
      done(err);
    return;
  }
  if (m.correlation_id.empty())
    m.correlation_id = new_uuid();
  auto span = probe ? probe->trace(m, current_delivery_trace()) : nullptr;
  window.submit(shared_from_this(), std::move(m), std::move(done), probe, std::move(span));
}

namespace {
/// Set while a publish's completion runs: code there must not block on the window
/// (the confirmations that free it may need this very thread).
thread_local bool in_publish_completion = false;

bool must_not_block() noexcept {
  return in_publish_completion || current_resumer() != nullptr;
}
}  // namespace

bool publish_window::try_acquire() noexcept {
  // Sequentially consistent, like the counters below: a release (decrement, then read
  // queued/blocked) and a waiter (announce itself, then try again) must not miss each other.
  auto n = in_flight_.load();
  while (n < limit_)
    if (in_flight_.compare_exchange_weak(n, n + 1)) {
      if (n + 1 > max_seen_.load(std::memory_order_relaxed))
        max_seen_.store(n + 1, std::memory_order_relaxed);
      return true;
    }
  return false;
}

void publish_window::dispatch(const std::shared_ptr<broker_core>& core, outgoing m,
                              publish_callback done, timing t) {
  // The completion keeps the core (and this window) alive until the driver answers.
  core->get_transport()->publish(
      std::move(m), [this, core, done = std::move(done), t](const error_info& e) {
        if (t.probe)
          t.probe->published(1, std::chrono::steady_clock::now() - t.since,
                             e ? to_string(e.code) : std::string_view{});
        if (t.span)
          t.span->end(e ? to_string(e.code) : std::string_view{});
        {
          in_publish_completion = true;
          struct reset {
            ~reset() { in_publish_completion = false; }
          } r;
          if (done)
            done(e);
        }
        release(core);
      });
}

void publish_window::release(const std::shared_ptr<broker_core>& core) {
  in_flight_.fetch_sub(1);
  if (blocked_.load() > 0) {  // under the lock, so a producer about to wait cannot miss it
    std::lock_guard lock{mtx_};
    room_.notify_all();
  }
  if (queued_count_.load() == 0)
    return;
  // The oldest queued publishes take the freed slots, in order. A loop, not
  // recursion: a driver that confirms inline (the memory broker) releases again
  // from inside `dispatch`, and that inner release leaves the work to this loop.
  thread_local publish_window* releasing = nullptr;
  if (releasing == this)
    return;
  auto* outer = std::exchange(releasing, this);
  for (;;) {
    std::unique_lock lock{mtx_};
    if (queue_.empty() || !try_acquire())
      break;
    auto q = pop_front();
    lock.unlock();
    dispatch(core, std::move(q.m), std::move(q.done), q.t);
  }
  releasing = outer;
}

publish_window::queued publish_window::pop_front() {
  auto q = std::move(queue_.front());
  queue_.pop_front();
  queued_count_.fetch_sub(1);
  return q;
}

void publish_window::submit(const std::shared_ptr<broker_core>& core, outgoing m,
                            publish_callback done, publish_probe* probe, publish_trace_ptr span) {
  timing t{probe,
           probe ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{},
           std::move(span)};
  if (queued_count_.load() == 0 && try_acquire())
    return dispatch(core, std::move(m), std::move(done), t);
  std::unique_lock lock{mtx_};
  if (queue_.empty() && try_acquire()) {  // a release ran since the check above
    lock.unlock();
    return dispatch(core, std::move(m), std::move(done), t);
  }
  waited_.fetch_add(1, std::memory_order_relaxed);
  if (!must_not_block()) {
    // A producer on its own thread waits for room (and for the queue ahead of it).
    blocked_.fetch_add(1);
    room_.wait(lock, [&] { return queue_.empty() && in_flight_.load() < limit_; });
    blocked_.fetch_sub(1);
    if (try_acquire()) {
      lock.unlock();
      return dispatch(core, std::move(m), std::move(done), t);
    }
  }
  // Behind the others: a confirmation sends it. Unless the last one came between the
  // failed acquire above and this push (it saw no queue): then there is room now.
  queue_.push_back({std::move(m), std::move(done), t});
  queued_count_.fetch_add(1);
  if (!try_acquire())
    return;
  auto q = pop_front();
  lock.unlock();
  dispatch(core, std::move(q.m), std::move(q.done), q.t);
}

std::string broker_core::ensure_replies() {
  std::lock_guard lock{mtx_};
  if (reply_address_.empty()) {
    replies_ = std::make_shared<reply_sink>();
    reply_address_ = transport_->open_replies(replies_);
  }
  return reply_address_;
}

std::shared_ptr<broker_core::reply_sink> broker_core::prepare_request(outgoing& m) {
  m.reply_to = ensure_replies();
  if (m.correlation_id.empty())
    m.correlation_id = new_uuid();
  std::lock_guard lock{mtx_};
  return replies_;
}

envelope_ptr broker_core::request(outgoing m, std::chrono::milliseconds timeout) {
  auto sink = prepare_request(m);
  auto reply = std::make_shared<handoff<envelope_ptr>>();
  sink->add(m.correlation_id, [reply](envelope_ptr env) { reply->set(std::move(env)); });
  auto corr = m.correlation_id;
  auto channel = m.channel;
  if (auto err = publish_now(shared_from_this(), std::move(m))) {
    sink->take(corr);
    throw request_error{err.code, "request to '" + channel + "' failed: " + err.to_string()};
  }
  auto env = reply->wait_for(timeout);
  if (!env) {
    sink->take(corr);
    throw request_error{errc::timeout, no_reply(channel, timeout, corr)};
  }
  return std::move(*env);
}

std::string broker_core::no_reply(const std::string& channel, std::chrono::milliseconds timeout,
                                  const std::string& corr) {
  return "no reply from '" + channel + "' within " + std::to_string(timeout.count()) +
         " ms (correlation_id " + corr + "); is a subscriber running on it?";
}

void broker_core::request_async(outgoing m, std::chrono::milliseconds timeout,
                                std::function<void(envelope_ptr, error_info)> done) {
  auto sink = prepare_request(m);
  auto corr = m.correlation_id;
  auto channel = m.channel;
  auto finish = std::make_shared<std::function<void(envelope_ptr, error_info)>>(std::move(done));
  sink->add(corr, [finish, channel, timeout, corr](envelope_ptr env) {
    if (env)
      (*finish)(std::move(env), {});
    else
      (*finish)(nullptr, {errc::timeout, no_reply(channel, timeout, corr)});
  });
  std::weak_ptr<reply_sink> weak = sink;
  timer_service::instance().after(timeout, [weak, corr] {
    if (auto s = weak.lock())
      if (auto slot = s->take(corr))
        slot(nullptr);
  });
  send(std::move(m), [sink, corr, channel, finish](const error_info& err) {
    if (!err)
      return;
    if (sink->take(corr))  // not timed out or answered yet: the failure is the answer
      (*finish)(nullptr, {err.code, "request to '" + channel + "' failed: " + err.to_string()});
  });
}

namespace {
/// Once per process: a blocking call made inside a handler holds its scheduler thread.
void warn_if_blocking_a_handler(const char* what, const char* instead) {
  static std::atomic<bool> warned{false};
  if (!current_resumer() || warned.exchange(true))
    return;
  default_logger()->warn(
      "{} inside a handler blocks its scheduler thread until the broker "
      "answers (for seconds while it is down); return a brook::task and {} "
      "instead. Logged once",
      what, instead);
}
}  // namespace

error_info publish_now(const std::shared_ptr<broker_core>& core, outgoing m) {
  if (!core)
    return {errc::invalid_argument, "publisher to '" + m.channel +
                                        "' is not attached to a broker: include its router first"};
  // Shared with the callback: a spinning waiter may return while the
  // transport's thread is still inside `set`.
  warn_if_blocking_a_handler("publish()", "co_await publisher.publish_async(x)");
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

void publish_batch_later(const std::shared_ptr<broker_core>& core, std::vector<outgoing> ms,
                         publish_callback done) {
  if (ms.empty()) {
    if (done)
      done({});
    return;
  }
  struct progress {
    std::atomic<std::size_t> left;
    std::mutex mtx;
    error_info first;
    publish_callback done;
  };
  auto p = std::make_shared<progress>();
  p->left = ms.size();
  p->done = std::move(done);
  for (auto& m : ms)
    publish_later(core, std::move(m), [p](const error_info& e) {
      if (e) {
        std::lock_guard lock{p->mtx};
        if (!p->first)
          p->first = e;
      }
      if (p->left.fetch_sub(1) == 1 && p->done) {
        error_info first;
        {
          std::lock_guard lock{p->mtx};
          first = p->first;
        }
        p->done(first);
      }
    });
}

error_info publish_batch_now(const std::shared_ptr<broker_core>& core, std::vector<outgoing> ms) {
  warn_if_blocking_a_handler("publish_batch()", "publisher.publish_batch_async(xs, done)");
  auto done = std::make_shared<handoff<error_info>>();
  publish_batch_later(core, std::move(ms), [done](const error_info& e) { done->set(e); });
  return *done->wait_for(std::chrono::hours{24 * 365});
}

envelope_ptr request_now(const std::shared_ptr<broker_core>& core, outgoing m,
                         std::chrono::milliseconds timeout) {
  warn_if_blocking_a_handler("request()", "co_await broker.request_async<R>(...)");
  return core->request(std::move(m), timeout);
}

void request_later(const std::shared_ptr<broker_core>& core, outgoing m,
                   std::chrono::milliseconds timeout,
                   std::function<void(envelope_ptr, error_info)> done) {
  if (!core) {
    done(nullptr,
         {errc::invalid_argument, "request to '" + m.channel + "': the broker is not started"});
    return;
  }
  core->request_async(std::move(m), timeout, std::move(done));
}

}  // namespace brook::detail
