#pragma once
/// @file
/// A driver's loop thread: a libevent base that one thread runs, tasks posted
/// from any thread, and re-armable timers. hiredis attaches to it (and nats.c
/// can: it has a libevent adapter); a client with its own threads uses it for
/// timers and for serialising its callbacks.
///
/// @code
/// brook::driver::event_loop loop;
/// std::thread t{[&] { loop.run(); }};
/// brook::driver::timer tick{loop, [&] { /* on the loop thread */ }};
/// loop.post([&] { tick.start(std::chrono::milliseconds{100}); });
/// ...
/// loop.post([&] { tick.cancel(); loop.stop(); });
/// t.join();
/// @endcode
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

struct event_base;
struct event;

namespace brook::driver {

/// A libevent base plus a task queue woken through an eventfd.
/// @warning Everything except `post` and `in_loop` belongs to the loop thread.
class event_loop {
public:
  using task = std::function<void()>;

  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  event_base* base() const noexcept { return base_; }

  /// Dispatches until `stop()`, then runs the tasks still queued (they see a stopped loop).
  void run();
  /// Makes `run()` return after the current callback.
  void stop();
  /// Queues `t` for the loop thread. Returns false (and drops `t`) once the loop has finished.
  bool post(task t);
  bool in_loop() const noexcept { return std::this_thread::get_id() == loop_thread_.load(); }
  /// Runs once after every batch of posted tasks (to coalesce work of one batch,
  /// as the Redis driver does with XACKs).
  void set_after_drain(task t) { after_drain_ = std::move(t); }

private:
  static void on_wake(int fd, short what, void* self);
  void drain();

  event_base* base_ = nullptr;
  event* wake_event_ = nullptr;
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::vector<task> queue_;
  bool finished_ = false;
  std::atomic<bool> wake_pending_{false};
  std::atomic<std::thread::id> loop_thread_{};
  task after_drain_;
};

/// A re-armable one-shot timer on an `event_loop`.
class timer {
public:
  timer(event_loop& loop, std::function<void()> fn);
  ~timer();
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;

  void start(std::chrono::milliseconds delay);
  void cancel();
  bool armed() const;

private:
  static void on_fire(int fd, short what, void* self);
  event* event_ = nullptr;
  std::function<void()> fn_;
};

}  // namespace brook::driver
