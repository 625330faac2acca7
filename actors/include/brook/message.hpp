#pragma once
/// @file
/// The raw message a handler can ask for, and the exceptions that settle it.
#include <brook/codec.hpp>
#include <brook/context.hpp>
#include <brook/logger.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook {

/// How a subscriber settles a message (FastStream's AckPolicy).
///
/// | policy            | before the handler | success | handler threw |
/// |-------------------|--------------------|---------|---------------|
/// | `ack_first`       | ack                | -       | -             |
/// | `ack`             | -                  | ack     | ack           |
/// | `reject_on_error` (default) | -        | ack     | reject        |
/// | `nack_on_error`   | -                  | ack     | nack (redeliver) |
/// | `manual`          | -                  | -       | -  (call message::ack/nack/reject) |
///
/// Decode and validation failures are always rejected (a retry cannot fix
/// them), under `manual` too (the handler never ran), except under `ack_first`
/// (acked before decoding). The exceptions `ack_message`,
/// `nack_message` and `reject_message` override the policy.
enum class ack_policy { ack_first, ack, reject_on_error, nack_on_error, manual };

/// The outcome an exception maps to.
enum class ack_action { ack, nack, reject };

/// Throw from a handler to ack the message regardless of the policy.
struct ack_message : std::exception {
  const char* what() const noexcept override { return "ack_message"; }
};
/// Throw from a handler to nack (redeliver) the message.
struct nack_message : std::exception {
  const char* what() const noexcept override { return "nack_message"; }
};
/// Throw from a handler to reject (drop or dead-letter) the message.
struct reject_message : std::exception {
  const char* what() const noexcept override { return "reject_message"; }
};

/// A body that did not match the handler's type; carries the field path.
class decode_failure : public std::runtime_error {
public:
  decode_failure(std::string channel, decode_error err)
      : std::runtime_error(channel + ": " + err.to_string() +
                           " (fix the producer or relax the type)"),
        error_(std::move(err)) {}
  const decode_error& error() const noexcept { return error_; }

private:
  decode_error error_;
};

/// A deferred result did not complete within the subscriber's `timeout`.
class handler_timeout : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A header or path parameter the handler requires was missing or malformed.
class missing_input : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
struct message_state;
}

/// The raw message: body bytes, headers, ids and broker metadata, plus manual
/// settlement. Handlers take it as `brook::message&` or `const brook::message&`.
/// @code
/// broker.subscriber("orders").handle([](const brook::message& m) {
///   std::cout << m.correlation_id() << " " << m.body() << '\n';
/// });
/// @endcode
/// @warning Valid only during the handler call (and until a deferred result
/// completes); copy what you need to keep.
class message {
public:
  message(envelope_ptr env, brook::logger log, brook::context* ctx,
          std::vector<std::pair<std::string, std::string>> path)
      : env_(std::move(env)), log_(std::move(log)), ctx_(ctx), path_(std::move(path)) {}

  std::string_view body() const noexcept { return env_->body; }
  const brook::headers& headers() const noexcept { return env_->headers; }
  const std::string* header(std::string_view key) const noexcept { return env_->headers.find(key); }
  std::string_view channel() const noexcept { return env_->channel; }
  std::string_view correlation_id() const noexcept { return env_->correlation_id; }
  std::string_view reply_to() const noexcept { return env_->reply_to; }
  std::string_view message_id() const noexcept { return env_->message_id; }
  std::string_view content_type() const noexcept { return env_->content_type; }
  /// Broker-native metadata (`stream_id`, `offset`, ...); empty when absent.
  std::string_view metadata(std::string_view key) const noexcept {
    auto i = env_->metadata.find(std::string{key});
    return i == env_->metadata.end() ? std::string_view{} : std::string_view{i->second};
  }
  /// A path parameter captured from the subscriber's address (`orders.{region}`).
  const std::string* path_param(std::string_view name) const noexcept {
    for (auto& [k, v] : path_)
      if (k == name)
        return &v;
    return nullptr;
  }
  /// Decodes the body into `T` (throws decode_failure).
  template <class T>
  T decode(const codec_options& o = {}) const {
    T out{};
    if (auto err = brook::codec::decode_body(env_->body, env_->content_type, out, o))
      throw decode_failure{env_->channel, std::move(*err)};
    return out;
  }

  /// Attempt number, redelivered flag, partition/offset and the broker's own id.
  /// For a batch: the highest attempt of its messages, and the first one's ids.
  const delivery_info& delivery() const noexcept { return env_->delivery; }

  /// A batch subscriber's messages one by one (headers, ids, offsets of each), in
  /// the order of the body's array; empty for a single message.
  /// @code
  /// broker.subscriber("orders").batch(100).handle(
  ///     [](const std::vector<order>& xs, const brook::message& m) {
  ///       for (std::size_t i = 0; i < xs.size(); ++i)
  ///         use(xs[i], m.batch()[i]->message_id);
  ///     });
  /// @endcode
  const std::vector<envelope_ptr>& batch() const noexcept { return env_->batch; }

  /// Manual settlement (ack_policy::manual, or to settle early). The first
  /// call wins; later calls and the policy's own settlement are ignored. A
  /// nack of a delivery its broker cannot take back (Redis pub/sub, lists) is
  /// counted as a drop, with its reason, in the subscriber's counters.
  /// Under `manual`, a message still unsettled when its handler finishes is
  /// nacked (and a warning says where).
  void ack() { settle(ack_action::ack); }
  void nack() { settle(ack_action::nack); }
  void reject() { settle(ack_action::reject); }
  bool settled() const noexcept { return settled_.has_value(); }
  /// How it was settled, if it was.
  std::optional<ack_action> settled_as() const noexcept { return settled_; }
  /// Settles with `a` unless already settled; returns whether it did.
  bool settle(ack_action a, std::chrono::milliseconds delay = std::chrono::milliseconds{0}) {
    if (settled_)
      return false;
    settled_ = a;
    if (auto& ack = env_->ack) {
      switch (a) {
        case ack_action::ack: ack->ack(); break;
        case ack_action::nack: delay.count() > 0 ? ack->nack_after(delay) : ack->nack(); break;
        case ack_action::reject: ack->reject(); break;
      }
    }
    return true;
  }

  brook::logger& logger() noexcept { return log_; }
  brook::context& context() noexcept { return *ctx_; }
  const envelope_ptr& raw() const noexcept { return env_; }

private:
  envelope_ptr env_;
  brook::logger log_;
  brook::context* ctx_;
  std::vector<std::pair<std::string, std::string>> path_;
  std::optional<ack_action> settled_;
};

}  // namespace brook
