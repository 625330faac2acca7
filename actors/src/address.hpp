#pragma once
// Address templates (private to the core).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook::detail {

/// `orders.{region}` -> `orders.*` for the driver (placeholders become wildcards).
std::string wildcard_address(const std::string& address);
/// Captures `{name}` values of `pattern` from a concrete `channel`.
std::vector<std::pair<std::string, std::string>> extract_path(std::string_view pattern,
                                                              std::string_view channel);

}  // namespace brook::detail
