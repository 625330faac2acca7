#pragma once
/// @file
/// The timing every driver's connection needs: when to try again after a failed
/// attempt (the core's jittered `brook::backoff`, shared with restarts and
/// retries) and when a server that keeps the socket open but stopped answering
/// counts as stalled.
///
/// @code
/// brook::driver::retry_schedule again{{.initial = 100ms, .max = 5s}};
/// timer.start(again.next());       // 100 ms, 200 ms, ... 5 s, each +-20%
/// again.reset();                   // connected
///
/// brook::driver::stall_watch watch;
/// watch.answered();                              // in the reply callback
/// if (watch.check(now, in_flight > 0, 5s)) ...   // at the heartbeat: stalled
/// else if (in_flight == 0) send_ping();
/// @endcode
/// @warning Not thread-safe: the driver's loop thread owns them.
#include <algorithm>
#include <brook/policy.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace brook::driver {

/// Attempt counter over a `brook::backoff`.
class retry_schedule {
public:
  explicit retry_schedule(brook::backoff policy) : policy_(policy) {}
  /// The wait before the next attempt (at least 1 ms), counting it.
  std::chrono::milliseconds next() {
    return std::max(policy_.delay(++attempts_, brook::detail::random01()),
                    std::chrono::milliseconds{1});
  }
  /// Connected: the next failure starts from `initial` again.
  void reset() noexcept { attempts_ = 0; }
  /// Failed attempts since the last `reset`.
  std::size_t attempts() const noexcept { return attempts_; }

private:
  brook::backoff policy_;
  std::size_t attempts_ = 0;
};

/// Detects a server that takes requests and never answers (a stopped process,
/// a half-open TCP connection): requests are outstanding and none was answered
/// for `timeout`. The reply path pays one increment; the clock is read only at
/// the driver's heartbeat, which also sends a PING when nothing is outstanding
/// (so an idle connection is checked too).
class stall_watch {
public:
  using clock = std::chrono::steady_clock;
  /// A reply arrived (hot path).
  void answered() noexcept { ++answers_; }
  /// At each heartbeat: true when requests were outstanding and unanswered for `timeout`.
  bool check(clock::time_point now, bool outstanding, std::chrono::milliseconds timeout) noexcept {
    if (!outstanding || answers_ != seen_) {
      seen_ = answers_;
      quiet_since_ = now;
      return false;
    }
    return now - quiet_since_ >= timeout;
  }
  /// The connection was (re)made: start afresh.
  void reset(clock::time_point now) noexcept {
    seen_ = answers_;
    quiet_since_ = now;
  }
  /// How long no reply came while requests were outstanding, at the last check.
  std::chrono::milliseconds quiet_for(clock::time_point now) const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - quiet_since_);
  }

private:
  std::uint64_t answers_ = 0, seen_ = 0;
  clock::time_point quiet_since_{};
};

}  // namespace brook::driver
