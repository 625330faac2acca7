#pragma once
// The runtime side of a broker: its transport (swappable by the test broker),
// request/reply bookkeeping and the process-wide id generator.
#include <brook/codec.hpp>
#include <brook/detail/ids.hpp>
#include <brook/logger.hpp>
#include <brook/middleware.hpp>
#include <brook/transport.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace brook::detail {


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
  std::shared_ptr<spdlog::logger> log = default_logger();
  /// The app's and the broker's middlewares: every publish through `send` (direct
  /// publishes, publishers, requests) passes their `on_publish`. Set at start.
  /// Not owned: a middleware holding a publisher of this broker (a dead-letter
  /// target) would otherwise keep the core alive through itself.
  std::vector<std::weak_ptr<middleware::base>> publish_chain;

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
