#include <brook/middleware/dead_letter.hpp>
#include <brook/middleware/exceptions.hpp>
#include <brook/middleware/retry.hpp>
#include <brook/middleware/timeout.hpp>

namespace brook::middleware {

void retry::configure(subscriber_policies& p) const {
  p.retry = policy_;
  if (through_)
    p.retry_through = through_;
}

void dead_letter::configure(subscriber_policies& p) const {
  p.dead_letter = target_;
}

void timeout::configure(subscriber_policies& p) const {
  p.timeout = limit_;
}

std::optional<ack_action> exceptions::on_exception(message& m, const std::exception_ptr& ep) {
  for (auto& h : handlers_)
    if (auto [matched, action] = h(m, ep); matched)
      return action;
  return std::nullopt;
}

}  // namespace brook::middleware
