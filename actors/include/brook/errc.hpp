#pragma once
/// @file
/// brook's error codes and the error value passed across the transport seam.
#include <string>
#include <string_view>

namespace brook {

/// What went wrong, coarse-grained; the text says where and what to do.
enum class errc {
  ok = 0,
  connection_failed,  ///< cannot reach the broker (retryable)
  disconnected,       ///< the connection dropped (retryable)
  publish_failed,     ///< the broker refused or lost a publish
  timeout,            ///< a request or drain timed out
  decode_failed,      ///< body did not match the handler's type
  invalid_argument,   ///< bad configuration or call
  handler_failed,     ///< user code threw
  overflow,           ///< a bounded buffer overflowed; messages were dropped
  closed,             ///< the broker or app is shutting down
  not_found,          ///< no subscriber, dependency or route
  stalled,            ///< the broker kept the connection open and stopped answering (retryable)
  unsupported,        ///< the driver or broker cannot do this
};

std::string_view to_string(errc e) noexcept;

/// Whether retrying the same operation later can succeed.
constexpr bool is_retryable(errc e) noexcept {
  return e == errc::connection_failed || e == errc::disconnected || e == errc::timeout ||
         e == errc::stalled;
}

/// An error code plus a human sentence. Default-constructed means success.
/// `[[nodiscard]]`: a function that returns one cannot have its failure ignored
/// by accident (cast to void to ignore it on purpose).
struct [[nodiscard]] error_info {
  errc code = errc::ok;
  std::string message;
  explicit operator bool() const noexcept { return code != errc::ok; }
  std::string to_string() const;
};

}  // namespace brook
