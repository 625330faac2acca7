#pragma once
/// @file
/// What a driver holds while its connection is down: a bounded FIFO of
/// commands (publishes, acks), each failed once it has waited `timeout`.
///
/// @code
/// brook::driver::held_queue<command> held{{.max = 100'000, .timeout = std::chrono::seconds{10}}};
/// if (!held.push(c))                    // full: fail it now, with a reason that says so
///   c.done({errc::disconnected, "... (max_queued)"});
/// held.flush([&](command& c) { return conn.send(c); });   // back up: send in order
/// held.expire([](command& c) { c.done({errc::disconnected, "not sent within 10 s"}); });
/// @endcode
/// @warning Not thread-safe: one thread (the driver's loop) owns it.
#include <chrono>
#include <cstddef>
#include <deque>
#include <utility>

namespace brook::driver {

/// The bound of a `held_queue`.
struct held_limits {
  std::size_t max = 100000;                  ///< items held at most; `push` refuses beyond
  std::chrono::milliseconds timeout{10000};  ///< how long one item may wait
};

template <class T>
class held_queue {
public:
  using clock = std::chrono::steady_clock;

  explicit held_queue(held_limits limits = {}) : limits_(limits) {}

  /// Holds `x` (moved from) and returns true; false when full (`x` is left as it was,
  /// for the caller to fail).
  bool push(T& x, clock::time_point now = clock::now()) {
    if (items_.size() >= limits_.max)
      return false;
    items_.push_back({std::move(x), now});
    return true;
  }

  /// Offers every item, oldest first, to `send(T&) -> bool`; those it takes leave,
  /// the rest keep their place and their age.
  template <class Send>
  void flush(Send&& send) {
    if (items_.empty())
      return;
    std::deque<entry> keep;
    for (auto& e : items_)
      if (!send(e.value))
        keep.push_back(std::move(e));
    items_.swap(keep);
  }

  /// Takes out every item that waited `timeout` or longer and passes it to `expired(T&)`.
  template <class Expired>
  void expire(Expired&& expired, clock::time_point now = clock::now()) {
    while (!items_.empty() && now - items_.front().since >= limits_.timeout) {
      auto e = std::move(items_.front());
      items_.pop_front();
      expired(e.value);
    }
  }

  /// Takes out every item (closing), passing each to `fn(T&)`.
  template <class Fn>
  void clear(Fn&& fn) {
    auto all = std::move(items_);
    items_.clear();
    for (auto& e : all)
      fn(e.value);
  }

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  const held_limits& limits() const noexcept { return limits_; }

private:
  struct entry {
    T value;
    clock::time_point since;
  };
  held_limits limits_;
  std::deque<entry> items_;
};

}  // namespace brook::driver
