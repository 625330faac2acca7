#pragma once
/// @file
/// The in-memory transport behind `brook::memory::broker` and the test broker.
/// Exposed so tests and drivers' test emulations can inspect it.
#include <brook/memory/settings.hpp>
#include <brook/transport.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace brook::memory {

/// Whether `channel` matches `pattern` (`*` = one `.`-separated segment or,
/// inside a segment, any characters; `>` or `#` at the end = the rest).
bool matches(std::string_view pattern, std::string_view channel);

class memory_transport final : public transport,
                               public std::enable_shared_from_this<memory_transport> {
public:
  explicit memory_transport(settings s);
  ~memory_transport() override;

  std::string_view protocol() const noexcept override { return "memory"; }
  std::string url() const override { return "memory://localhost"; }
  /// In-process: up at once (reported to the core as `connected`).
  error_info start() override {
    report(connection_event::kind::connected);
    return {};
  }
  /// Nothing to remake: the queues live in this process.
  error_info restart() override {
    report(connection_event::kind::restored);
    return {};
  }
  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override;
  void publish(outgoing msg, publish_callback done) override;
  std::string open_replies(std::shared_ptr<delivery_sink> sink) override;
  void close() override;

  /// Whether a publish `m` reaches a subscription of `spec`, as a driver's emulation
  /// decides it (Kafka's regex patterns, several topics, partitions); nullopt leaves it
  /// to `settings`' address rules. Called with the transport's lock held.
  using router =
      std::function<std::optional<bool>(const subscription_spec& spec, const outgoing& m)>;
  /// What a driver's emulation adds to this transport (each part optional).
  struct hooks {
    router route;
    /// Finishes each envelope a publish makes, before a queue holds it (Kafka's
    /// partition and offset). Called with the transport's lock held.
    std::function<void(envelope&)> finish;
  };
  /// Uses `h` from now on (set it before subscribing; `{}` removes them).
  void emulate_with(hooks h);
  /// Drops the undelivered messages (those `which` selects; all without it) of every
  /// queue a publish like `probe` reaches, and returns how many queues that is; what
  /// was delivered and not settled is untouched. A driver's emulation of a seek
  /// replays from its own log after it.
  std::size_t discard_pending(const outgoing& probe,
                              const std::function<bool(const envelope&)>& which = {});
  /// Undelivered messages over all queues.
  std::size_t pending() const;
  /// Delivered and not yet settled.
  std::size_t unsettled() const;
  std::size_t rejected() const;

  struct state;  // shared with subscriptions and acknowledgers

private:
  std::shared_ptr<state> st_;
};

/// Builds the envelope a consumer sees for `m` (FastStream's header rules:
/// correlation_id, content-type, reply_to, then user headers). Takes the
/// strings of `m`.
envelope to_envelope(outgoing&& m);

}  // namespace brook::memory
