#include <brook/nats/settings.hpp>

namespace brook::nats {

std::string redact_url(std::string_view url) {
  // Each comma-separated server may carry `user:password@` or `token@`.
  std::string out;
  std::size_t start = 0;
  while (start <= url.size()) {
    auto comma = url.find(',', start);
    auto one = url.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (auto scheme = one.find("://"); scheme != std::string_view::npos) {
      if (auto at = one.rfind('@'); at != std::string_view::npos && at > scheme) {
        auto userinfo = one.substr(scheme + 3, at - scheme - 3);
        auto colon = userinfo.find(':');
        std::string shown{one.substr(0, scheme + 3)};
        shown += colon == std::string_view::npos ? std::string{"***"}
                                                 : std::string{userinfo.substr(0, colon)} + ":***";
        shown += one.substr(at);
        out += shown;
      } else {
        out += one;
      }
    } else {
      out += one;
    }
    if (comma == std::string_view::npos)
      break;
    out += ',';
    start = comma + 1;
  }
  return out;
}

}  // namespace brook::nats
