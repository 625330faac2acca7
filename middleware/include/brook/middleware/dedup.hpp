#pragma once
/// @file
/// Drops duplicates: a message whose id was processed within the window is
/// acked without running the handler, logged and counted (`skipped`).
///
/// The id is the message id (FastStream's `message_id`, kept across
/// redeliveries and republished retries), or a header's value when one is
/// named; messages without one always run. Ids are per subscriber: the same
/// message on two subscribers is not a duplicate. Only processed runs are
/// remembered, so a failed message's redelivery runs again; a duplicate that
/// arrives while the first is still running waits for its outcome. The window
/// lives in memory: a restarted service starts with an empty one (pair it with
/// an idempotent handler where that matters).
///
/// @code
/// broker.subscriber("payments")
///     .middleware(std::make_shared<brook::middleware::dedup>(std::chrono::minutes{10}))
///     .handle(charge);
/// @endcode
#include <brook/middleware.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace brook::middleware {

class dedup final : public shared {
public:
  /// Remembers up to `capacity` ids for `window` each; `header` empty = the message id.
  explicit dedup(std::chrono::milliseconds window = std::chrono::minutes{10},
                 std::size_t capacity = 100'000, std::string header = {});
  admission admit(const admission_query& q) override;
  void settled(const admission_query& q, run_outcome how) override;

private:
  std::string key_of(const admission_query& q) const;
  void expire(std::chrono::steady_clock::time_point now);

  std::chrono::milliseconds window_;
  std::size_t capacity_;
  std::string header_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> done_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_;
  std::unordered_map<std::string, const admission_query*> running_;
};

}  // namespace brook::middleware
