#include <spdlog/spdlog.h>

#include <brook/errc.hpp>
#include <brook/logger.hpp>

namespace brook {

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::connection_failed: return "connection_failed";
    case errc::disconnected: return "disconnected";
    case errc::publish_failed: return "publish_failed";
    case errc::timeout: return "timeout";
    case errc::decode_failed: return "decode_failed";
    case errc::invalid_argument: return "invalid_argument";
    case errc::handler_failed: return "handler_failed";
    case errc::overflow: return "overflow";
    case errc::closed: return "closed";
    case errc::not_found: return "not_found";
    case errc::stalled: return "stalled";
    case errc::unsupported: return "unsupported";
  }
  return "unknown";
}

std::string error_info::to_string() const {
  if (code == errc::ok)
    return "ok";
  return std::string{brook::to_string(code)} + ": " + message;
}

std::function<void(const error_info&)> log_driver_events(std::string prefix) {
  return [prefix = std::move(prefix)](const error_info& e) {
    auto log = broker_logger();
    if (e.code == errc::ok)
      log->info("{}{}", prefix, e.message);
    else
      log->warn("{}{}", prefix, e.to_string());
  };
}

}  // namespace brook
