// Address templates: `orders.{region}` as a driver wildcard, and the values of its
// placeholders in a concrete channel.
#include "address.hpp"

namespace brook::detail {

std::string wildcard_address(const std::string& address) {
  std::string out;
  for (std::size_t i = 0; i < address.size(); ++i) {
    if (address[i] == '{') {
      auto end = address.find('}', i);
      if (end != std::string::npos) {
        out += '*';
        i = end;
        continue;
      }
    }
    out += address[i];
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> extract_path(std::string_view pattern,
                                                              std::string_view channel) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t p = 0, c = 0;
  while (p < pattern.size() && c <= channel.size()) {
    if (pattern[p] == '{') {
      auto end = pattern.find('}', p);
      if (end == std::string_view::npos)
        break;
      auto name = pattern.substr(p + 1, end - p - 1);
      p = end + 1;
      // A placeholder spans up to the next literal character of the pattern.
      auto stop = p < pattern.size() ? channel.find(pattern[p], c) : channel.size();
      if (stop == std::string_view::npos)
        stop = channel.size();
      out.emplace_back(std::string{name}, std::string{channel.substr(c, stop - c)});
      c = stop;
    } else {
      ++p;
      ++c;
    }
  }
  return out;
}

}  // namespace brook::detail
