#pragma once
/// @file
/// Envelopes a driver's receiving thread hands out again once the core has let go of them,
/// so their strings and headers keep their storage and a warm driver allocates nothing for
/// the envelope of a message. For drivers; not part of the user-facing API.
#include <atomic>
#include <brook/transport.hpp>
#include <cstddef>
#include <memory>
#include <vector>

namespace brook::detail {

/// A ring of envelopes for one thread (the driver's receive loop). `get()` returns the oldest
/// envelope nobody else holds any more, cleared with its storage kept, or a new one while the
/// ring is below `capacity`. Its `headers` keep their pairs: the driver fills them with
/// `headers::refill` (which reuses their storage), or clears them. An envelope still held when its
/// turn comes is left to its holders and replaced. Under ThreadSanitizer (which does not model the
/// fence below) every envelope is new.
/// @code
/// brook::detail::envelope_pool pool{2048};
/// std::shared_ptr<brook::acknowledger> old_ack;
/// auto env = pool.get(&old_ack);  // old_ack: the reused envelope's acknowledger, when only it
/// held one env->body.assign(payload, size);  // no allocation once the ring is warm
/// env->headers.refill(n, [&](std::size_t i) { return header_at(i); });
/// sink->deliver(std::move(env));
/// @endcode
class envelope_pool {
public:
  explicit envelope_pool(std::size_t capacity = 4096) : capacity_(capacity) {}

  /// A cleared envelope. When the one reused had an acknowledger that nothing else holds,
  /// it is moved to `*old_ack` (if given) so the driver can rearm it instead of making one.
  envelope_ptr get(std::shared_ptr<acknowledger>* old_ack = nullptr) {
#if defined(__SANITIZE_THREAD__)
    (void)old_ack;
    return std::make_shared<envelope>();
#else
    if (!ring_.empty()) {
      auto& oldest = ring_[next_];
      if (oldest.use_count() == 1) {
        // The core's last release (acq_rel) happened before this: its writes are visible.
        std::atomic_thread_fence(std::memory_order_acquire);
        clear(*oldest, old_ack);
        next_ = (next_ + 1) % ring_.size();
        return oldest;
      }
      if (ring_.size() >= capacity_) {
        oldest = std::make_shared<envelope>();  // the held one stays with its holders
        next_ = (next_ + 1) % ring_.size();
        return oldest;
      }
    }
    // Growing: the new envelope is the newest, just before the oldest.
    auto at = ring_.insert(ring_.begin() + static_cast<std::ptrdiff_t>(next_),
                           std::make_shared<envelope>());
    next_ = (next_ + 1) % ring_.size();
    return *at;
#endif
  }

private:
  static void clear(envelope& e, std::shared_ptr<acknowledger>* old_ack) {
    e.channel.clear();
    e.body.clear();
    e.correlation_id.clear();
    e.reply_to.clear();
    e.message_id.clear();
    e.content_type.clear();
    e.claim.reset();
    if (!e.metadata.empty())
      e.metadata.clear();
    if (old_ack && e.ack && e.ack.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      *old_ack = std::move(e.ack);
    }
    e.ack.reset();
    auto id = std::move(e.delivery.broker_id);
    e.delivery = {};
    id.clear();
    e.delivery.broker_id = std::move(id);
    e.batch.clear();
  }

  std::size_t capacity_;
  std::vector<envelope_ptr> ring_;
  std::size_t next_ = 0;
};

}  // namespace brook::detail
