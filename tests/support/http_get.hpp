#pragma once
// A blocking HTTP GET for tests of the app's endpoint (brook::asyncapi::http_get), and a reader of
// the Prometheus text format that finds one sample by name and labels.
#include <brook/asyncapi/server.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace brook_test_support {

struct http_reply {
  unsigned status = 0;  ///< 0: no connection
  std::string content_type;
  std::string body;
};

inline http_reply http_get(unsigned short port, const std::string& target,
                           const std::string& host = "127.0.0.1") {
  auto r = brook::asyncapi::http_get(host, port, target, std::chrono::seconds{10});
  if (!r)
    return {};
  return {r->status, std::move(r->content_type), std::move(r->body)};
}

/// The value of the sample `name` whose labels include all of `labels`, from a Prometheus text
/// exposition; nullopt when there is none.
inline std::optional<double> sample(const std::string& text, const std::string& name,
                                    const std::map<std::string, std::string>& labels = {}) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    auto metric = line.substr(0, brace == std::string::npos ? space : brace);
    if (metric != name)
      continue;
    std::map<std::string, std::string> have;
    if (brace != std::string::npos) {
      auto end = line.rfind('}');
      std::string body = line.substr(brace + 1, end - brace - 1);
      std::size_t at = 0;
      while (at < body.size()) {
        auto eq = body.find('=', at);
        auto q1 = body.find('"', eq);
        auto q2 = q1 + 1;
        while (q2 < body.size() && !(body[q2] == '"' && body[q2 - 1] != '\\'))
          ++q2;
        have[body.substr(at, eq - at)] = body.substr(q1 + 1, q2 - q1 - 1);
        at = q2 + 1;
        if (at < body.size() && body[at] == ',')
          ++at;
      }
    }
    bool match = true;
    for (auto& [k, v] : labels)
      if (auto i = have.find(k); i == have.end() || i->second != v)
        match = false;
    if (match)
      return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

}  // namespace brook_test_support
