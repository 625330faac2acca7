#pragma once
// The core's side of telemetry: several observers as one, and the delivery whose
// handler runs on this thread.
#include <brook/observer.hpp>
#include <vector>

namespace brook::detail {

/// One observer hearing what every one of `os` hears (nulls skipped); null when none.
observer_ptr combine(std::vector<observer_ptr> os);

/// The delivery trace of the handler running or resuming on this thread.
delivery_trace_ptr& current_trace() noexcept;

/// Makes `t` this thread's current delivery trace while alive.
class trace_scope {
public:
  explicit trace_scope(delivery_trace_ptr t)
      : prev_(std::exchange(current_trace(), std::move(t))) {}
  ~trace_scope() { current_trace() = std::move(prev_); }
  trace_scope(const trace_scope&) = delete;
  trace_scope& operator=(const trace_scope&) = delete;

private:
  delivery_trace_ptr prev_;
};

}  // namespace brook::detail
