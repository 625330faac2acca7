#pragma once
// A one-shot value handed from one thread to a thread that waits for it
// (a request's reply, a publish's confirmation).
//
// The waiter spins for a short while before it parks: on virtual machines
// waking a parked thread costs 20-30 us, longer than an in-process round trip
// through the actors, so a blocking request would otherwise pay it every time.
// The setter touches the mutex only when the waiter has actually parked.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace brook::detail {

/// How long a waiter spins before parking (CPU time traded for latency).
inline constexpr std::chrono::microseconds handoff_spin{50};

template <class T>
class handoff {
public:
  /// Stores the value and wakes the waiter. The first call wins.
  bool set(T value) {
    bool expected = false;
    if (!claimed_.compare_exchange_strong(expected, true))
      return false;
    value_.emplace(std::move(value));
    ready_.store(true);  // seq_cst: ordered against the waiter's `parked_` store
    if (parked_.load()) {
      std::lock_guard lock{mtx_};
      cv_.notify_one();
    }
    return true;
  }

  /// Waits up to `timeout`; returns the value, or nullopt on timeout.
  std::optional<T> wait_for(std::chrono::nanoseconds timeout) {
    auto start = std::chrono::steady_clock::now();
    auto spin_until = start + std::min<std::chrono::nanoseconds>(handoff_spin, timeout);
    for (unsigned k = 0; !ready_.load(std::memory_order_acquire); ++k) {
      if ((k & 63) == 63) {
        if (std::chrono::steady_clock::now() >= spin_until)
          break;
        std::this_thread::yield();
      }
    }
    if (!ready_.load(std::memory_order_acquire)) {
      std::unique_lock lock{mtx_};
      parked_.store(true);
      if (!cv_.wait_until(lock, start + timeout, [&] { return ready_.load(); }))
        return std::nullopt;
    }
    return std::move(value_);
  }

private:
  std::atomic<bool> claimed_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> parked_{false};
  std::optional<T> value_;
  std::mutex mtx_;
  std::condition_variable cv_;
};

}  // namespace brook::detail
