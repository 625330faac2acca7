#pragma once
/// @file
/// Ids for messages and correlation: fast, unique, not secret. Internal.
#include <cstdint>
#include <string>

namespace brook::detail {

/// 64 random bits from a per-thread generator (splitmix64, randomly seeded).
std::uint64_t random64() noexcept;

/// A random UUID4 string (correlation ids, message ids).
std::string new_uuid();

}  // namespace brook::detail
