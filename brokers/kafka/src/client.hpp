#pragma once
// The producer behind a Kafka transport: librdkafka configuration from
// `settings`, a poll thread that serves delivery reports (each completes its
// publish) and retries what met a full queue, connection events from
// librdkafka's error callback and a metadata probe, and the subscriptions that
// hear about the link.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <brook/kafka/settings.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace brook::kafka {

/// A subscription that hears about the cluster link (from the client's poll thread).
/// Where a seek moves a partition: an offset, or the first record at or after a time.
struct seek_request {
  std::string topic;
  std::int32_t partition = -1;  ///< -1: every partition the consumer holds of `topic`
  std::int64_t offset = 0;      ///< an offset, or a time in ms with `by_time`
  bool by_time = false;
};

class link_listener {
public:
  virtual ~link_listener() = default;
  virtual void link_lost(const error_info& why) = 0;
  virtual void link_back() = 0;
  /// Takes `r` when this reads its topic (applied on its own thread); false otherwise.
  virtual bool seek(const seek_request&) { return false; }
};

class client : public std::enable_shared_from_this<client> {
public:
  using link_fn = std::function<void(connection_event::kind, error_info)>;
  explicit client(settings s);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Creates the producer and waits up to `connect_timeout` for the cluster's first
  /// answer; when there is none yet, returns a retryable error (librdkafka keeps trying,
  /// the connection actor hears `connected` later). A refused configuration fails.
  error_info start(link_fn link);
  /// Flushes what is queued (bounded), completes the rest with `errc::closed`. Idempotent.
  void close();
  bool connected() const noexcept { return up_.load(); }
  const settings& cfg() const noexcept { return cfg_; }
  void publish(outgoing m, publish_callback done);

  /// A librdkafka configuration: the driver's defaults, `settings::config`, then the
  /// producer's or consumers' own settings, then `extra`. Null and `err` on a bad setting.
  rd_kafka_conf_t* make_conf(bool producer, const std::map<std::string, std::string>& extra,
                             std::string& err) const;
  /// Creates `name` with `partitions` partitions (exists already: fine), waiting up to `wait`.
  error_info create_topic(const std::string& name, int partitions, std::chrono::milliseconds wait);

  void listen(const std::shared_ptr<link_listener>& l);
  void forget(const link_listener* l);
  /// Hands `r` to every consumer reading its topic; how many took it.
  std::size_t seek(const seek_request& r);

  // librdkafka's callbacks (C linkage trampolines call these).
  void on_delivery(const rd_kafka_message_t& m);
  void on_error(int err, const char* reason);

private:
  struct held {
    outgoing msg;
    publish_callback done;
  };
  rd_kafka_resp_err_t produce(outgoing& m, publish_callback& done);
  void run();
  bool probe(std::chrono::milliseconds wait);
  void set_up(bool up, error_info why);
  std::vector<std::shared_ptr<link_listener>> listeners();

  settings cfg_;
  link_fn link_;
  rd_kafka_t* rk_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stop_{false}, up_{false}, ever_up_{false};
  std::mutex mtx_;         ///< held_, listeners_
  std::deque<held> held_;  ///< met a full queue: retried by the poll thread, in order
  std::vector<std::weak_ptr<link_listener>> listeners_;
  bool closed_ = false;
  std::atomic<bool> auth_failed_{false};
  std::string auth_error_;  ///< librdkafka's text of the last refused authentication
  std::shared_mutex life_;  ///< shared: producing; unique: destroying the producer
};

/// The client behind a Kafka transport (null for any other transport).
std::shared_ptr<client> client_of(const std::shared_ptr<brook::transport>& t);

}  // namespace brook::kafka
