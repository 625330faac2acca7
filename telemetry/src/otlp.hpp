#pragma once
// OTLP/HTTP: the traces URL and the POST of one export request.
#include <chrono>
#include <optional>
#include <string>

namespace brook::telemetry::detail {

/// `http://host:port/path` → host, port (80 when absent) and the path (`/v1/traces` when
/// absent); nothing for another scheme or a malformed URL.
std::optional<std::string> parse_http_url(const std::string& url, std::string& host,
                                          unsigned short& port);

/// POSTs a JSON body; true on a 2xx answer.
bool post_json(const std::string& host, unsigned short port, const std::string& target,
               std::string body, std::chrono::milliseconds timeout);

}  // namespace brook::telemetry::detail
