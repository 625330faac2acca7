#pragma once
// The app's shutdown state and liveness watchdog, shared by its lifecycle (app.cpp), its
// command line (app_cli.cpp) and its HTTP endpoint (app_http.cpp).
#include <atomic>
#include <brook/app.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

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

/// Liveness's progress check: per subscriber, its finished count and since when it is unchanged.
struct app::watchdog {
  std::mutex mtx;
  struct mark {
    std::uint64_t finished = 0;
    std::chrono::steady_clock::time_point since{};
  };
  std::map<std::string, mark, std::less<>> marks;
};

}  // namespace brook
