#pragma once
// Waiting helpers shared by the test suites: poll a condition with a deadline
// (tests never sleep a fixed time and hope).
#include <chrono>
#include <thread>

namespace brook_test_support {

/// Polls `p` every millisecond until it holds or `timeout` passes; returns its last value.
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return p();
}

}  // namespace brook_test_support
