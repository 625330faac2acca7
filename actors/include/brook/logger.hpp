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

/// What a log line says about the message it is about (each a view of that message).
struct log_fields {
  std::string_view channel, message_id, correlation_id;
  std::string_view handler;   ///< the subscriber's address as declared
  std::string_view trace_id;  ///< the delivery's trace (tracing on), else empty
};

/// @code
/// .handle([](const user_created& u, brook::logger& log) {
///   log.info("new user {}", u.username);   // "user-created | 3f2a... - new user Ada"
/// });
/// @endcode
/// With `--log-format json` the same line is one JSON object with the fields apart:
/// `{"time":"...","level":"info","logger":"brook.access","message":"new user Ada",
/// "channel":"user-created","message_id":"3f2a...","correlation_id":"...","handler":"user-created"}`.
/// @warning Thread-safe (spdlog's multi-threaded sinks). Valid while its message is.
class logger {
public:
  logger() = default;
  /// `channel` and `id` must outlive the logger (they view the message being handled).
  logger(std::shared_ptr<spdlog::logger> impl, std::string_view channel, std::string_view id)
      : impl_(std::move(impl)), fields_{channel, id, {}, {}, {}} {}
  /// Every field must outlive the logger.
  logger(std::shared_ptr<spdlog::logger> impl, log_fields fields)
      : impl_(std::move(impl)), fields_(fields) {}

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
    write(lvl, fmt::format(f, std::forward<Ts>(xs)...));
  }
  bool should_log(spdlog::level::level_enum lvl) const { return impl_ && impl_->should_log(lvl); }
  const std::shared_ptr<spdlog::logger>& impl() const noexcept { return impl_; }
  const log_fields& fields() const noexcept { return fields_; }

private:
  /// `channel | id - text`, or the JSON line with the fields.
  void write(spdlog::level::level_enum lvl, std::string_view text) const;

  std::shared_ptr<spdlog::logger> impl_;
  log_fields fields_;
};

/// brook's loggers, by name (each can have its own level: `--log-level brook.access=warn`):
/// `brook` (the app: start, stop, signals, the HTTP endpoint, the fleet), `brook.access`
/// (a line per message received and processed, failures, and what handlers log) and
/// `brook.broker` (connections and the drivers' events).
std::shared_ptr<spdlog::logger> named_logger(std::string_view name);
std::shared_ptr<spdlog::logger> access_logger();
std::shared_ptr<spdlog::logger> broker_logger();

/// Sets levels from `spec`: comma-separated `LEVEL` (every brook logger) or `NAME=LEVEL`
/// entries, applied in order (`"info,brook.access=warn"`). Throws `std::invalid_argument`
/// naming the bad entry and the known loggers and levels.
void set_log_levels(std::string_view spec);

/// Adds `sink` to every brook logger (a file, a test's capture); `remove_log_sink` takes it
/// away again. The current format applies to it.
/// @code
/// brook::add_log_sink(std::make_shared<spdlog::sinks::basic_file_sink_mt>("svc.log"));
/// @endcode
void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);
void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink);

/// `text` (the default: `time level channel | message id - text`) or `json` (one object per
/// line). Throws `std::invalid_argument` for anything else.
void set_log_format(std::string_view format);

/// The process-wide brook logger, `brook` (created on first use; level set by the CLI).
std::shared_ptr<spdlog::logger> default_logger();

/// What a broker does with its driver's events by default (`settings::on_event`):
/// successes at info, failures at warn, on the default logger, each after `prefix`.
std::function<void(const error_info&)> log_driver_events(std::string prefix = {});

}  // namespace brook
