#pragma once
/// @file
/// One Redis connection that reconnects by itself (hiredis async on the driver's loop).
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <brook/driver/event_loop.hpp>
#include <brook/driver/reconnect.hpp>
#include <brook/errc.hpp>
#include <brook/redis/settings.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace brook::redis {

using driver::event_loop;
using driver::timer;

/// Called exactly once per command: with the reply, or with null when the connection was lost
/// or closed before the reply arrived (the command may or may not have run).
using reply_fn = std::function<void(redisReply*)>;

/// A command's arguments, borrowed for the duration of one send call (a braced list lives
/// until the end of the call's full expression, which is all a send needs).
class command_args {
public:
  command_args(std::initializer_list<std::string_view> xs) : list_(xs) {}
  command_args(const std::vector<std::string_view>& xs) : ptr_(xs.data()), size_(xs.size()) {}
  command_args(const std::string_view* d, std::size_t n) : ptr_(d), size_(n) {}
  const std::string_view* data() const noexcept { return ptr_ ? ptr_ : list_.begin(); }
  std::size_t size() const noexcept { return ptr_ ? size_ : list_.size(); }

private:
  std::initializer_list<std::string_view> list_;
  const std::string_view* ptr_ = nullptr;
  std::size_t size_ = 0;
};

/// What a connection tells its owner.
struct connection_events {
  /// Connected, authenticated, database selected: commands may flow.
  std::function<void()> ready;
  /// A ready connection dropped; in-flight replies have already been called with null.
  std::function<void(const error_info&)> lost;
  /// Pub/sub pushes (only for connections that SUBSCRIBE).
  std::function<void(redisReply*)> push;
  /// Replies to `send_ordered`, in the order the commands were sent (null = lost).
  std::function<void(redisReply*)> ordered;
  /// Notable conditions for `settings::on_event` (filled in by the engine).
  std::function<void(const error_info&)> report;
};

class connection;
/// The connections of one driver, so a stall seen on one drops them all (loop thread).
using connection_set = std::set<connection*>;

/// A reconnecting hiredis async connection. States: idle -> connecting -> ready -> (lost)
/// -> waiting for the backoff -> connecting ... ; `close()` ends it for good.
/// @warning Loop thread only.
class connection {
public:
  /// `all`, when given, lists this connection while it lives.
  connection(event_loop& loop, const endpoint& ep, const settings& cfg, std::string name,
             connection_events events, connection_set* all = nullptr);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Starts connecting (no-op unless idle).
  void open();
  /// Frees the context (pending replies get null) and stops reconnecting.
  void close();
  bool ready() const noexcept { return state_ == state::ready; }
  /// The server's CLIENT ID of the current connection (for CLIENT UNBLOCK).
  long long client_id() const noexcept { return client_id_; }
  /// Commands sent but not answered yet.
  std::size_t in_flight() const noexcept { return in_flight_; }

  /// Sends a command; false when not ready (then `fn` is not called).
  bool send(command_args argv, reply_fn fn);
  /// Sends an already formatted RESP command whose reply goes to `connection_events::ordered`;
  /// the owner keeps its own FIFO of what it sent, which saves a callback object per command.
  bool send_ordered(std::string_view resp);
  /// Sends (P)SUBSCRIBE / (P)UNSUBSCRIBE; replies arrive through `connection_events::push`.
  bool send_subscribe(command_args argv);

  /// Checks every `settings::heartbeat` that Redis answers (PING when idle) and calls
  /// `stalled` once commands waited `settings::stall_timeout` without a reply.
  void watch(std::function<void(const error_info&)> stalled);
  /// Drops the connection as if the server had closed it (`lost`, then reconnect with
  /// backoff); an attempt in progress is failed and retried. No-op when closed or idle.
  void drop(const error_info& why);
  /// The set is going away first (the engine's destructor): forget it.
  void detach() noexcept { all_ = nullptr; }

private:
  enum class state { idle, connecting, ready, waiting, closed };
  struct pending_op;

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_ordered(redisAsyncContext* ac, void* reply, void* privdata);

  void attempt();
  bool writable(bool handshake) const noexcept;
  bool issue(redisCallbackFn* fn, void* privdata, command_args argv);
  bool send_raw(command_args argv, reply_fn fn, bool handshake);
  void handshake();
  void fail_attempt(error_info why);
  void went_down(error_info why);
  void schedule_retry();
  void report(error_info e);
  void heartbeat();

  event_loop& loop_;
  endpoint ep_;
  const settings& cfg_;
  std::string name_;
  connection_events events_;
  redisAsyncContext* ctx_ = nullptr;
  state state_ = state::idle;
  long long client_id_ = 0;
  std::size_t in_flight_ = 0;
  driver::retry_schedule again_;
  std::chrono::steady_clock::time_point last_failure_report_{};
  timer retry_timer_;
  timer connect_timer_;
  timer heartbeat_timer_;
  driver::stall_watch stall_;
  std::function<void(const error_info&)> on_stall_;
  connection_set* all_ = nullptr;
};

}  // namespace brook::redis
