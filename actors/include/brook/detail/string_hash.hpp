#pragma once
// A transparent hash: `std::unordered_map<std::string, T, string_hash, std::equal_to<>>` is
// looked up with a `std::string_view` without building a string (telemetry's per-publish
// probe lookups).
#include <cstddef>
#include <functional>
#include <string_view>

namespace brook::detail {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace brook::detail
