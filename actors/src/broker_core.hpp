#pragma once
// The runtime side of a broker: its transport (swappable by the test broker),
// request/reply bookkeeping and the process-wide id generator.
#include <atomic>
#include <brook/codec.hpp>
#include <brook/detail/ids.hpp>
#include <brook/logger.hpp>
#include <brook/middleware.hpp>
#include <brook/observer.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace brook::detail {

class broker_core;

/// The outbound window of one broker: at most `limit` publishes handed to the
/// driver and not yet confirmed by it. Beyond that a publish waits: a caller on
/// its own thread blocks (backpressure on a producer loop); a handler actor, or
/// code running inside a publish's completion, never blocks: its publish queues
/// here, in order, and goes out as confirmations free the window (its input stays
/// unsettled meanwhile, so the subscriber's credit bounds that queue).
class publish_window {
public:
  explicit publish_window(std::size_t limit) : limit_(limit ? limit : 1) {}
  /// Hands `m` to `core`'s transport now, or when the window has room.
  /// `probe` (telemetry's, may be null) hears of the completion, timed from now, and
  /// `span` (tracing's, may be null) ends then.
  void submit(const std::shared_ptr<broker_core>& core, outgoing m, publish_callback done,
              publish_probe* probe = nullptr, publish_trace_ptr span = nullptr);
  void set_limit(std::size_t n) { limit_ = n ? n : 1; }
  std::size_t limit() const noexcept { return limit_; }
  std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t max_seen() const noexcept { return max_seen_.load(std::memory_order_relaxed); }
  /// Publishes that found the window full (queued or blocked).
  std::uint64_t waited() const noexcept { return waited_.load(std::memory_order_relaxed); }

private:
  struct timing {
    publish_probe* probe = nullptr;
    std::chrono::steady_clock::time_point since{};
    publish_trace_ptr span;
  };
  struct queued {
    outgoing m;
    publish_callback done;
    timing t;
  };
  bool try_acquire() noexcept;
  queued pop_front();  ///< the oldest queued publish (lock held)
  void release(const std::shared_ptr<broker_core>& core);
  void dispatch(const std::shared_ptr<broker_core>& core, outgoing m, publish_callback done,
                timing t);

  std::size_t limit_;
  std::atomic<std::size_t> in_flight_{0}, max_seen_{0};
  std::atomic<std::uint64_t> waited_{0};
  std::atomic<std::size_t> queued_count_{0};
  std::atomic<std::size_t> blocked_{0};  ///< producers waiting in `submit`
  std::mutex mtx_;
  std::condition_variable room_;
  std::deque<queued> queue_;
};

class broker_core : public std::enable_shared_from_this<broker_core> {
public:
  explicit broker_core(std::shared_ptr<transport> t) : transport_(std::move(t)) {}

  std::shared_ptr<transport> get_transport() const {
    std::lock_guard lock{mtx_};
    return transport_;
  }
  /// Used by the test broker before start; returns the previous transport.
  std::shared_ptr<transport> swap_transport(std::shared_ptr<transport> t);

  /// Fills defaults (correlation id) and hands the message to the transport.
  void send(outgoing m, publish_callback done);
  envelope_ptr request(outgoing m, std::chrono::milliseconds timeout);
  /// Publishes `m` and calls `done` once: with the reply, or with null and the
  /// failure (the publish failed, or no reply within `timeout`). Never blocks.
  void request_async(outgoing m, std::chrono::milliseconds timeout,
                     std::function<void(envelope_ptr, error_info)> done);

  std::string app_id = "brook";
  /// Publishes above this fail (the same default as a subscriber's body limit).
  std::size_t max_body_bytes = codec_options{}.max_body_bytes;
  /// The failure for a body over the limit, or ok.
  error_info check_size(const outgoing& m) const;
  std::shared_ptr<spdlog::logger> log = broker_logger();
  /// Publishes in flight to the driver at most (`broker::max_publish_in_flight`).
  publish_window window{10000};
  /// The app's and the broker's middlewares: every publish through `send` (direct
  /// publishes, publishers, requests) passes their `on_publish`. Set at start.
  /// Not owned: a middleware holding a publisher of this broker (a dead-letter
  /// target) would otherwise keep the core alive through itself.
  std::vector<std::weak_ptr<middleware::base>> publish_chain;
  /// The app's observer (telemetry) and the transport's protocol; null/empty when none.
  /// Set at start.
  observer_ptr obs;
  std::string protocol;
  /// Telemetry's probe of publishes to `destination`; null without an observer.
  publish_probe* probe_for(std::string_view destination) const {
    return obs ? obs->destination(protocol, destination) : nullptr;
  }

private:
  class reply_sink;
  static std::string no_reply(const std::string& channel, std::chrono::milliseconds timeout,
                              const std::string& corr);
  std::string ensure_replies();
  /// Sets `reply_to` and a correlation id; the sink its reply will reach.
  std::shared_ptr<reply_sink> prepare_request(outgoing& m);

  mutable std::mutex mtx_;
  std::shared_ptr<transport> transport_;
  std::string reply_address_;
  std::shared_ptr<reply_sink> replies_;
};

}  // namespace brook::detail
