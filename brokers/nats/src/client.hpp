#pragma once
// One nats.c connection and its JetStream context: options from `settings`,
// nats.c's connection events as the seam's, publishes (core at once, JetStream
// completed by the PubAck), and the subscriptions that hear about the link.
#include <nats/nats.h>

#include <atomic>
#include <brook/nats/settings.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace brook::nats {

/// A subscription that hears about the connection (from nats.c's threads).
class link_listener {
public:
  virtual ~link_listener() = default;
  virtual void link_lost(const error_info& why) = 0;  ///< down; nats.c reconnects
  virtual void link_back() = 0;                       ///< (re)connected
  virtual void shutdown() = 0;                        ///< the client closes: stop using it
};

class client : public std::enable_shared_from_this<client> {
public:
  using link_fn = std::function<void(connection_event::kind, error_info)>;
  explicit client(settings s);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects; when the server is not reachable yet, nats.c keeps trying and this
  /// returns a retryable error (the connection actor hears `connected` later).
  error_info start(link_fn link);
  /// Stops the subscriptions, waits briefly for JetStream PubAcks, closes. Idempotent.
  void close();
  bool connected() const noexcept;
  const settings& cfg() const noexcept { return cfg_; }
  std::string url() const { return redact_url(cfg_.url); }

  /// Runs `f(nc, js)` while the connection exists (under a shared lock, so
  /// `close` waits for it); returns false when it is closed or not started.
  bool with(const std::function<void(natsConnection*, jsCtx*)>& f) const;
  void publish(outgoing m, publish_callback done);

  /// Runs `f(kv)` with the bucket's store (opened, or created when missing, on first
  /// use and kept until close) while the connection exists.
  error_info with_kv(const std::string& bucket, const std::function<void(kvStore*)>& f);

  void listen(const std::shared_ptr<link_listener>& l);
  void forget(const link_listener* l);

  /// The hooks nats.c's callbacks reach the client through (they may outlive it).
  struct hooks;

private:
  void event(connection_event::kind k, error_info why);
  /// True when it keeps `msg` to send it again (see `resends_`).
  bool on_pub_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae);
  void run_resender();
  std::vector<std::shared_ptr<link_listener>> listeners();
  friend struct hooks;

  /// Writes what publishes left in nats.c's buffer as soon as it is idle (flush_when_idle).
  void kick() noexcept;
  void run_flusher();

  settings cfg_;
  link_fn link_;
  std::thread flusher_;
  std::mutex flush_mtx_;
  std::condition_variable flush_cv_;
  bool dirty_ = false, flusher_stop_ = false;
  mutable std::shared_mutex life_;  ///< shared: using nc_/js_; unique: closing
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  hooks* hooks_ = nullptr;
  bool closed_ = false;
  std::atomic<bool> ever_connected_{false};
  std::mutex mtx_;  ///< listeners_, acks_
  std::vector<std::weak_ptr<link_listener>> listeners_;
  std::unordered_map<natsMsg*, publish_callback> acks_;  ///< JetStream publishes awaiting a PubAck
  /// JetStream publishes the server answered with "no responders": no stream took them
  /// *now* (the server is going down, or the stream's leader moving). Sent again after
  /// a pause, twice at most, before the publish fails with not_found (under mtx_).
  struct resend {
    natsMsg* msg;
    std::chrono::steady_clock::time_point due;
  };
  std::vector<resend> resends_;
  std::unordered_map<natsMsg*, int> resent_;  ///< times each was sent again
  std::condition_variable resend_cv_;
  std::thread resender_;
  bool resender_stop_ = false;
  std::mutex kv_mtx_;
  std::unordered_map<std::string, kvStore*> kv_;  ///< open buckets, destroyed at close
};

}  // namespace brook::nats
