// The ready-made shared middlewares: each runs on its own actor (see
// brook::middleware::shared), so the state below is touched by one thread at a time.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <brook/logger.hpp>
#include <brook/middleware/circuit_breaker.hpp>
#include <brook/middleware/dedup.hpp>
#include <brook/middleware/rate_limit.hpp>
#include <stdexcept>

namespace brook::middleware {

namespace {

using clock = std::chrono::steady_clock;

/// Rounded up: a wait of 0.2 ms is a wait of 1 ms, never none.
std::chrono::milliseconds ceil_ms(clock::duration d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

rate_limit::rate_limit(double per_second, std::size_t burst) {
  if (!(per_second > 0) || burst < 1)
    throw std::invalid_argument("rate_limit: per_second must be > 0 and burst >= 1 (got " +
                                std::to_string(per_second) + ", " + std::to_string(burst) + ")");
  interval_ = std::chrono::nanoseconds{static_cast<std::int64_t>(1e9 / per_second)};
  tolerance_ = interval_ * static_cast<std::int64_t>(burst - 1);
}

admission rate_limit::admit(const admission_query&) {
  // A virtual schedule (GCRA): each message takes the next slot; one may start as
  // soon as its slot is no more than `tolerance_` ahead of now.
  auto now = clock::now();
  auto slot = std::max(next_, now);
  next_ = slot + interval_;
  auto start = slot - tolerance_;
  return admission::go(start > now ? ceil_ms(start - now) : std::chrono::milliseconds{0});
}

circuit_breaker::circuit_breaker(std::size_t failures, std::chrono::milliseconds open_for)
    : failures_(failures), open_for_(open_for) {
  if (failures < 1 || open_for.count() <= 0)
    throw std::invalid_argument("circuit_breaker: failures must be >= 1 and open_for > 0 (got " +
                                std::to_string(failures) + ", " + std::to_string(open_for.count()) +
                                " ms)");
}

void circuit_breaker::open(clock::time_point now, std::string_view why) {
  until_ = now + open_for_;
  probe_ = nullptr;
  state_ = status::open;
  ++trips_;
  default_logger()->warn("circuit breaker open ({}); holding messages for {} ms, then one probe",
                         why, open_for_.count());
}

admission circuit_breaker::admit(const admission_query& q) {
  auto now = clock::now();
  switch (state()) {
    case status::closed: return admission::go();
    case status::open:
      if (now < until_)
        return admission::ask_again(ceil_ms(until_ - now));
      state_ = status::half_open;
      [[fallthrough]];
    case status::half_open:
      if (!probe_) {
        probe_ = &q;
        return admission::go();
      }
      // One probe at a time; the rest ask again soon after it may have ended.
      return admission::ask_again(std::clamp(open_for_ / 10, std::chrono::milliseconds{10},
                                             std::chrono::milliseconds{1000}));
  }
  return admission::go();
}

void circuit_breaker::settled(const admission_query& q, run_outcome how) {
  if (how == run_outcome::abandoned || how == run_outcome::invalid) {
    if (probe_ == &q)
      probe_ = nullptr;  // no verdict: the next message probes
    return;
  }
  const bool ok = how == run_outcome::processed;
  if (probe_ == &q) {
    probe_ = nullptr;
    if (ok) {
      in_a_row_ = 0;
      state_ = status::closed;
      default_logger()->info("circuit breaker closed: the probe on '{}' succeeded", q.subscriber());
    } else {
      open(clock::now(), "the probe on '" + std::string{q.subscriber()} + "' failed");
    }
    return;
  }
  if (state() != status::closed)
    return;  // a run admitted before it opened: already counted in
  if (ok) {
    in_a_row_ = 0;
  } else if (++in_a_row_ >= failures_) {
    in_a_row_ = 0;
    open(clock::now(), std::to_string(failures_) + " failures in a row, the last on '" +
                           std::string{q.subscriber()} + "'");
  }
}

dedup::dedup(std::chrono::milliseconds window, std::size_t capacity, std::string header)
    : window_(window), capacity_(capacity), header_(std::move(header)) {
  if (window.count() <= 0 || capacity < 1)
    throw std::invalid_argument("dedup: window must be > 0 and capacity >= 1");
}

std::string dedup::key_of(const admission_query& q) const {
  std::string_view id = q.message_id();
  if (!header_.empty()) {
    auto* h = q.header(header_);
    id = h ? std::string_view{*h} : std::string_view{};
  }
  if (id.empty())
    return {};
  std::string key{q.subscriber()};
  key += '\0';
  key += id;
  return key;
}

void dedup::expire(clock::time_point now) {
  while (!order_.empty() && (now - order_.front().first > window_ || done_.size() > capacity_)) {
    auto i = done_.find(order_.front().second);
    if (i != done_.end() && i->second == order_.front().first)
      done_.erase(i);
    order_.pop_front();
  }
}

admission dedup::admit(const admission_query& q) {
  auto key = key_of(q);
  if (key.empty())
    return admission::go();
  auto now = clock::now();
  expire(now);
  if (auto i = done_.find(key); i != done_.end())
    return admission::skip("duplicate of a message processed " +
                           std::to_string(ceil_ms(now - i->second).count()) + " ms ago");
  auto [r, fresh] = running_.try_emplace(std::move(key), &q);
  if (!fresh && r->second != &q)
    return admission::ask_again(std::chrono::milliseconds{20});  // wait for the first's outcome
  return admission::go();
}

void dedup::settled(const admission_query& q, run_outcome how) {
  auto key = key_of(q);
  auto r = running_.find(key);
  if (r == running_.end() || r->second != &q)
    return;
  running_.erase(r);
  if (how != run_outcome::processed)
    return;  // a failed one may run again when it is redelivered
  auto now = clock::now();
  done_[key] = now;
  order_.emplace_back(now, std::move(key));
  expire(now);
}

}  // namespace brook::middleware
