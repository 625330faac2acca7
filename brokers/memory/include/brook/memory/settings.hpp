#pragma once
/// @file
/// Settings of the in-memory broker.
///
/// | option      | default | meaning |
/// |-------------|---------|---------|
/// | `max_queue` | 0       | messages a subscription may hold undelivered; 0 = unbounded. A publish beyond it fails with `errc::overflow` (nothing is dropped silently) |
///
/// @code
/// brook::memory::broker broker{{.max_queue = 10'000}};
/// @endcode
#include <cstddef>
#include <memory>

namespace brook {
class transport;
}

namespace brook::memory {

struct settings {
  std::size_t max_queue = 0;
};

class memory_transport;

/// The in-memory transport (exact addresses and `*`/`>` wildcard patterns,
/// fan-out per subscription, competing consumers per group, ack/nack/reject).
std::shared_ptr<memory_transport> make_transport(settings s = {});

}  // namespace brook::memory
