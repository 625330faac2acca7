#pragma once
/// @file
/// The driver's shared state: the loop thread, the command connection, the pub/sub hub and the
/// consumers. `redis_transport` is a thin facade over it; handles and acknowledgers hold it
/// weakly so they may outlive the transport.
#include <atomic>
#include <brook/driver/completion.hpp>
#include <brook/driver/event_loop.hpp>
#include <brook/driver/held_queue.hpp>
#include <brook/redis/settings.hpp>
#include <brook/redis/specs.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "connection.hpp"

namespace brook::redis {

using clock = std::chrono::steady_clock;
class engine;
class channel_consumer;

/// A command for the command connection, kept until Redis answers it.
struct command {
  std::string resp;         ///< formatted (resp.hpp)
  driver::completion done;  ///< runs exactly once, with `closed` if the command is dropped
  std::string gate;         ///< our reply channel that must be subscribed before sending
  /// Single-value RPUSHes: where the value's bulk starts in `resp`. Neighbours in one
  /// drain with the same key are sent as one multi-value RPUSH (0 = not mergeable).
  std::size_t value_at = 0;
};

/// One subscription's state on the loop thread; the core's handle shares it.
class consumer : public std::enable_shared_from_this<consumer> {
public:
  consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink);
  virtual ~consumer() = default;
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  /// Loop thread: begin (or fail with the option error found at construction).
  virtual void start() = 0;
  /// Loop thread: credit arrived.
  virtual void kick() = 0;
  /// Loop thread: stop delivering; retire once nothing is outstanding. Idempotent.
  virtual void cancel() = 0;
  /// Loop thread, final: release the connection now (the transport is closing).
  virtual void shutdown() {}

  /// Any thread: adds credit; returns the credit before, so 0 means "kick the loop".
  std::size_t add_credit(std::size_t n) noexcept { return credit_.fetch_add(n); }
  std::size_t dropped() const noexcept { return dropped_.load(); }
  /// Fixed at construction from the spec (`brook::redis::channel/list/stream::capabilities()`).
  const capabilities& caps() const noexcept { return caps_; }
  /// Loop thread: runs `f` once this consumer has retired (at once if it has).
  void when_retired(std::function<void()> f);
  /// Loop thread: the broker confirmed the subscription / the first read went out.
  void confirmed();
  /// Loop thread: messages may have been missed (see `delivery_sink::gap`); reported
  /// only once the subscription was live.
  void gap(const error_info& why);
  /// Loop thread: this subscription's connection dropped (reported once per drop).
  void interrupted(const error_info& why);
  /// The error found in the spec at construction, if any.
  const error_info& option_error() const noexcept { return option_error_; }

  /// `channel`, `list` or `stream`: the kind in log lines and connection names.
  std::string kind() const {
    return spec_.driver.empty() ? "channel" : std::string{spec_.driver.kind()};
  }

  /// Loop thread: a payload on `where` (stream entry `id`, if any) began with the binary
  /// envelope's magic but did not parse, and was delivered as raw bytes. Reported at once,
  /// then at most once a minute per subscription with the count in between.
  void warn_malformed(std::string_view where, std::string_view id = {});

protected:
  /// Takes one credit unit (loop thread; only the loop thread takes).
  bool take_credit() noexcept;
  void deliver(envelope_ptr env);
  /// Reports a fatal error once to the sink and cancels.
  void fail(error_info err);
  /// Tells the engine, then whoever waits in `when_retired`.
  void retire_now();
  /// An option error found while parsing, reported by `start()`.
  error_info option_error_;
  engine& eng_;
  subscription_spec spec_;
  std::shared_ptr<delivery_sink> sink_;
  std::atomic<std::size_t> credit_{0};
  std::atomic<std::size_t> dropped_{0};
  capabilities caps_;
  bool unbounded_ = false;
  bool cancelled_ = false;
  bool failed_ = false;
  bool retired_ = false;
  bool confirmed_ = false;  // live at least once (gaps count from then on)
  bool live_ = false;       // confirmed on the current connection
  std::vector<std::function<void()>> on_retired_;

private:
  std::size_t malformed_unreported_ = 0;
  clock::time_point malformed_reported_{};
  bool malformed_seen_ = false;
};

/// The single SUBSCRIBE connection and the channel/pattern -> consumers map.
/// @warning Loop thread only.
class pubsub_hub {
public:
  explicit pubsub_hub(engine& eng) : eng_(eng) {}
  void add(const std::shared_ptr<channel_consumer>& c);
  /// Takes `c` out. True when it must wait for `left()`: it was the name's last
  /// subscriber, so an UNSUBSCRIBE went out and what Redis pushed before it still
  /// reaches `c` (a drain finishes it) until the server confirms.
  bool remove(const std::shared_ptr<channel_consumer>& c);
  /// Whether SUBSCRIBE `channel` is confirmed on the current connection.
  bool confirmed(const std::string& channel) const { return confirmed_.contains(channel); }
  void close();

private:
  using consumer_map = std::map<std::string, std::vector<std::shared_ptr<channel_consumer>>>;
  void on_ready();
  void on_lost(const error_info& e);
  void on_push(redisReply* r);
  void left(consumer_map& leaving, std::string_view name);
  void retire_leaving();
  void dispatch(consumer_map& map, consumer_map& leaving, const std::string& key,
                std::string_view channel, std::string_view data, std::string_view pattern);

  engine& eng_;
  std::unique_ptr<connection> conn_;
  consumer_map channels_;
  consumer_map patterns_;
  // Cancelled subscriptions waiting for their UNSUBSCRIBE / PUNSUBSCRIBE reply.
  consumer_map leaving_channels_;
  consumer_map leaving_patterns_;
  std::set<std::string> confirmed_;
  std::set<std::string> confirmed_patterns_;
  void confirm(consumer_map& map, std::string_view name);
};

class engine : public std::enable_shared_from_this<engine> {
public:
  explicit engine(const settings& s);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Any thread.
  /// Where the engine reports connected / restored / lost / stalled; before `start()`.
  void on_link(std::function<void(connection_event::kind, error_info)> f) {
    on_link_ = std::move(f);
  }
  error_info start();
  /// The command connection (publishes, acks) is up.
  bool connected() {
    std::lock_guard guard{life_mutex_};
    return connected_;
  }
  void close();
  /// Drops every connection and connects afresh (subscriptions resume as after a
  /// reconnect); what was in flight is held and sent again.
  error_info restart();
  void publish(outgoing msg, publish_callback done);
  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink);
  std::string open_replies(std::shared_ptr<delivery_sink> sink);
  /// The option error `subscribe(spec)` would fail with, without subscribing.
  error_info validate(const subscription_spec& spec);
  std::string url() const;
  /// Posts to the loop thread; false once the loop has finished (the task is dropped).
  bool post(event_loop::task t) { return loop_.post(std::move(t)); }

  // Loop thread, for consumers.
  const settings& cfg() const noexcept { return cfg_; }
  event_loop& loop() noexcept { return loop_; }
  pubsub_hub& hub() noexcept { return hub_; }
  bool closing() const noexcept { return phase_ != phase::running; }
  std::unique_ptr<connection> make_connection(const std::string& role, connection_events ev);
  /// Sends `c` on the command connection; holds it (bounded) while that is down and sends it
  /// again when its reply was lost with the connection.
  void submit(command c);
  /// Coalesces XACKs of one drain into one command per stream and group.
  void queue_ack(const std::string& key, const std::string& group, std::string id);
  /// Wakes a consumer connection blocked in BLPOP/XREAD (CLIENT UNBLOCK), if possible now.
  void unblock(long long client_id);
  /// A pub/sub channel got confirmed: gated commands may go.
  void on_subscribed() { flush_waiting(); }
  /// Drops a finished consumer.
  void retire(const consumer* c);
  /// `brook:<host>:<stream>`, with `:<n>` for the n-th subscriber of the same stream and
  /// group in this process: the same on every restart, so pending entries are found again.
  std::string stable_consumer_name(const std::string& stream, const std::string& group);
  void report(const error_info& e);

private:
  enum class phase { running, closing, closed };

  void ensure_thread();
  bool is_reply_channel(const std::string& name);
  bool can_send(const command& c) const;
  /// Sends `c` and moves it to `sent_` when the connection takes it.
  bool send(command& c);
  void hold(command c);
  void on_command_reply(redisReply* r);
  void drain_inbox();
  void flush_waiting();
  void flush_acks();
  void expire_waiting();
  void begin_shutdown();
  /// The command connection saw Redis stop answering: every connection is dropped and
  /// remade (readiness is false until they are back).
  void stalled(const error_info& why);
  void drop_all(const error_info& why);
  void link(connection_event::kind k, error_info why = {}) {
    if (on_link_)
      on_link_(k, std::move(why));
  }
  void check_shutdown();

  settings cfg_;
  endpoint ep_;
  error_info config_error_;
  event_loop loop_;
  std::thread thread_;

  std::mutex join_mutex_;
  std::mutex life_mutex_;  // guards started_/closing_ transitions, `connected_`, `last_error_`
  std::condition_variable connected_cv_;
  bool started_ = false;
  bool connected_ = false;
  std::string last_error_;
  std::atomic<bool> closing_{false};

  // Publishes cross to the loop in batches: one wake-up per batch, no task object each.
  std::mutex inbox_mutex_;
  std::vector<command> inbox_;
  // Written by open_replies (any thread) before its name is returned, so a publish naming it
  // can never be checked before it is known.
  std::mutex reply_mutex_;
  std::set<std::string> reply_channels_;
  std::mutex names_mutex_;
  std::map<std::pair<std::string, std::string>, int> consumer_names_;

  /// Where connection events go (the transport's observer); set before start.
  std::function<void(connection_event::kind, error_info)> on_link_;
  bool ever_connected_ = false;

  // Loop thread only.
  phase phase_ = phase::running;
  connection_set connections_;  // every live connection, so a stall drops them all
  std::unique_ptr<connection> cmd_;
  pubsub_hub hub_{*this};
  std::vector<std::shared_ptr<consumer>> consumers_;
  driver::held_queue<command> waiting_;  // until the connection (or a reply channel) is ready
  std::deque<command> sent_;             // sent on cmd_, in order, awaiting their replies
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> acks_;
  timer housekeeping_;
  timer shutdown_timer_;
  clock::time_point shutdown_deadline_{};
};

}  // namespace brook::redis
