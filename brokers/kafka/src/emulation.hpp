#pragma once
// The test broker's Kafka (emulation.cpp): the in-memory transport with a log per
// topic, so `broker::seek` replays there as on Kafka.
#include <brook/transport.hpp>
#include <memory>
#include <optional>

#include "client.hpp"

namespace brook::kafka {

/// Wraps the test broker's in-memory transport `memory` (a `memory::memory_transport`).
std::shared_ptr<brook::transport> make_emulation(std::shared_ptr<brook::transport> memory);

/// `r` applied to the emulation `t` is; nullopt when `t` is not one.
std::optional<error_info> emulated_seek(brook::transport& t, const seek_request& r);

}  // namespace brook::kafka
