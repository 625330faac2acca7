#pragma once
/// @file
/// The logger handlers get: spdlog underneath, every line prefixed with the
/// message's channel and id so lines of one message can be grepped together.
#include <spdlog/logger.h>

#include <brook/errc.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace brook {

/// @code
/// .handle([](const user_created& u, brook::logger& log) {
///   log.info("new user {}", u.username);   // "user-created | 3f2a... - new user Ada"
/// });
/// @endcode
/// @warning Thread-safe (spdlog's multi-threaded sinks). Valid while its message is.
class logger {
public:
  logger() = default;
  /// `channel` and `id` must outlive the logger (they view the message being handled).
  logger(std::shared_ptr<spdlog::logger> impl, std::string_view channel, std::string_view id)
      : impl_(std::move(impl)), channel_(channel), id_(id) {}

  template <class... Ts>
  void trace(fmt::format_string<Ts...> f, Ts&&... xs) {
    log(spdlog::level::trace, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void debug(fmt::format_string<Ts...> f, Ts&&... xs) {
    log(spdlog::level::debug, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void info(fmt::format_string<Ts...> f, Ts&&... xs) {
    log(spdlog::level::info, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void warn(fmt::format_string<Ts...> f, Ts&&... xs) {
    log(spdlog::level::warn, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void error(fmt::format_string<Ts...> f, Ts&&... xs) {
    log(spdlog::level::err, f, std::forward<Ts>(xs)...);
  }

  template <class... Ts>
  void log(spdlog::level::level_enum lvl, fmt::format_string<Ts...> f, Ts&&... xs) {
    if (!impl_ || !impl_->should_log(lvl))
      return;
    impl_->log(lvl, "{} | {} - {}", channel_, id_, fmt::format(f, std::forward<Ts>(xs)...));
  }
  bool should_log(spdlog::level::level_enum lvl) const { return impl_ && impl_->should_log(lvl); }
  const std::shared_ptr<spdlog::logger>& impl() const noexcept { return impl_; }

private:
  std::shared_ptr<spdlog::logger> impl_;
  std::string_view channel_, id_;
};

/// The process-wide brook logger (created on first use; level set by the CLI).
std::shared_ptr<spdlog::logger> default_logger();

/// What a broker does with its driver's events by default (`settings::on_event`):
/// successes at info, failures at warn, on the default logger, each after `prefix`.
std::function<void(const error_info&)> log_driver_events(std::string prefix = {});

}  // namespace brook
