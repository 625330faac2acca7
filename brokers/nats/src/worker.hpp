#pragma once
// What the driver's pulling subscriptions (JetStream fetches, key-value watches) share:
// a thread of their own, the credit it may take, and a stop that runs the cancel
// callbacks once the thread can deliver no more.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client.hpp"

namespace brook::nats {

class pull_worker : public link_listener {
public:
  explicit pull_worker(std::shared_ptr<client> cl) : cl_(std::move(cl)) {}

  void request(std::size_t n) {
    {
      std::lock_guard lock{mtx_};
      credit_ += n;
    }
    cv_.notify_all();
  }

  /// Stops taking: `done` runs once the thread has ended (at once if it has).
  void cancel(std::function<void()> done) {
    std::unique_lock lock{mtx_};
    if (done)
      on_done_.push_back(std::move(done));
    stop_ = true;
    if (exited_) {
      run_done(lock);
      return;
    }
    lock.unlock();
    cv_.notify_all();
  }

  /// Cancels and waits for the thread (detaches when called on it).
  void join() {
    cancel(nullptr);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
      thread_.join();
    else if (thread_.joinable())
      thread_.detach();
    cl_->forget(this);
  }

  void shutdown() override {
    cancel(nullptr);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
      thread_.join();
  }

protected:
  /// Starts `body` on the worker's thread; the cancel callbacks run after it returns.
  void launch(std::function<void()> body) {
    thread_ = std::thread([this, body = std::move(body)] {
      body();
      std::unique_lock lock{mtx_};
      exited_ = true;
      run_done(lock);
    });
  }

  /// Waits for credit; the most to take now (at most `most`), or 0 when stopping.
  std::size_t wait_credit(std::size_t most) {
    std::unique_lock lock{mtx_};
    cv_.wait(lock, [&] { return stop_ || credit_ > 0; });
    return stop_ ? 0 : std::min(credit_, most);
  }
  void took_one() {
    std::lock_guard lock{mtx_};
    if (credit_ > 0)
      --credit_;
  }
  bool stopping() {
    std::lock_guard lock{mtx_};
    return stop_;
  }
  /// Sleeps `d` unless stopped meanwhile.
  void wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock{mtx_};
    cv_.wait_for(lock, d, [&] { return stop_; });
  }
  /// The next wait after a failure: doubled, at most 2 s.
  static std::chrono::milliseconds next_backoff(std::chrono::milliseconds d) {
    return std::min(d * 2, std::chrono::milliseconds{2000});
  }

  std::shared_ptr<client> cl_;
  std::mutex mtx_;

private:
  void run_done(std::unique_lock<std::mutex>& lock) {
    auto fs = std::move(on_done_);
    on_done_.clear();
    lock.unlock();
    for (auto& f : fs)
      f();
  }

  std::thread thread_;
  std::condition_variable cv_;
  std::size_t credit_ = 0;
  bool stop_ = false, exited_ = false;
  std::vector<std::function<void()>> on_done_;
};

}  // namespace brook::nats
