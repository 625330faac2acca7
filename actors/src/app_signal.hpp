#pragma once
// The app's shutdown state, shared by its lifecycle (app.cpp) and its command line.
#include <atomic>
#include <brook/app.hpp>
#include <condition_variable>
#include <mutex>

namespace brook {

struct app::shutdown_signal {
  std::mutex mtx;
  std::condition_variable cv;
  bool requested = false;
  bool use_signals = false;
  std::atomic<bool> running{false};
  std::atomic<bool> ready{false};
  std::atomic<int> exit_code{0};
};

}  // namespace brook
