#pragma once
/// @file
/// NATS driver: settings and the transport factory.
///
/// The driver speaks to NATS through nats.c: one connection per transport,
/// which nats.c reconnects by itself (its events become the connection actor's),
/// one delivery thread per core subscription (nats.c's) and one fetch thread
/// per JetStream subscription (the driver's). No nats.c header is visible here.
///
/// @code
/// brook::nats::settings s;
/// s.url = "nats://127.0.0.1:4222";
/// auto t = brook::nats::make_transport(s);
/// if (auto err = t->start()) std::cerr << err.message << '\n';   // keeps retrying
/// auto sub = t->subscribe(brook::subscription_spec::of(brook::nats::subject{.name = "in"}), sink);
/// sub->request(16);
/// t->publish({.channel = "in", .body = "hi"}, [](const brook::error_info&) {});
/// @endcode
///
// clang-format off
/// ## Subscriptions (`subscription_spec::driver`, types in `brook/nats/specs.hpp`)
/// | declaration | NATS side | credit | capabilities |
/// |---|---|---|---|
/// | `subject` (or none) | SUB `address` [queue] | cannot pause: a bounded buffer per subscription (`subject_buffer`), overflow and slow-consumer drops counted | acks none, not pausable: a nack is a counted drop |
/// | `jetstream` | a pull consumer on `stream` filtered to `address`; FETCH min(credit, batch) | fetches only while credit > 0 | per-message acks: ack = +ACK, nack = -NAK (NAK with delay for retries), reject = +TERM; attempts from the server |
///
/// ## Publishing (`outgoing::driver`)
/// | target | NATS side |
/// |---|---|
/// | none, or `subject` | core PUB with headers; `reply_to` as the native reply subject |
/// | `jetstream_out` | JetStream publish, completed by the PubAck; `message_id` as `Nats-Msg-Id` |
// clang-format on
///
/// Headers on the wire as FastStream writes them: `correlation_id`, `content-type`
/// (always; empty for bytes), then user headers; a JetStream publish carries
/// `reply_to` as a header (its native reply subject is the ack subject).
/// Core publishes made while the connection is down wait in nats.c's reconnect
/// buffer (`reconnect_buffer` bytes) and go out after the reconnect; beyond it they
/// fail with `errc::disconnected`. Core subjects keep nothing for absent
/// subscribers: each disconnect reports a gap on every core subscription.
#include <brook/transport.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace brook::nats {

struct settings {
  /// `nats://[user:password@]host[:port]`, or several separated by commas
  /// (the cluster's seed servers). `tls://` asks for TLS.
  std::string url = "nats://127.0.0.1:4222";
  std::string name = "brook";  ///< the connection's name on the server
  std::string token;           ///< token authentication (never logged)
  /// TLS: the CA that signed the server's certificate; a client certificate and key for mutual TLS.
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool no_echo = false;  ///< the server does not send this connection's own publishes back
  /// How publishes reach the socket. By default the driver flushes as soon as the
  /// connection goes idle: a lone publish (a reply, a ping-pong) is written at once,
  /// while a burst is written in batches, one write per round trip of the previous
  /// flush (nats.c's own flusher alone would hold a lone reply for up to a millisecond).
  /// `send_asap` writes every publish on its own (lowest latency, one syscall each,
  /// a fifth of the throughput).
  bool send_asap = false;
  bool flush_when_idle = true;  ///< off: nats.c's flusher alone (batches, up to 1 ms late)
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_wait{
      250};                                ///< between reconnect attempts (nats.c adds jitter)
  int max_reconnect = -1;                  ///< -1 = forever
  int reconnect_buffer = 8 * 1024 * 1024;  ///< bytes of publishes held while disconnected
  std::chrono::milliseconds ping_interval{
      2000};                            ///< a stalled server is noticed after 2 missed pongs
  std::size_t subject_buffer = 10'000;  ///< messages a core subscription holds beyond its credit
  std::size_t fetch_batch = 100;        ///< most messages per JetStream fetch
  std::chrono::milliseconds fetch_wait{500};    ///< how long one fetch waits for messages
  std::chrono::milliseconds api_timeout{5000};  ///< JetStream API calls (stream, consumer, PubAck)
  int max_js_publish_pending = 4096;  ///< JetStream publishes awaiting their PubAck at once
  /// What happened to the connection (connected, lost, restored, slow consumer),
  /// for the broker's log. Called from nats.c's threads.
  std::function<void(const error_info&)> on_event;
};

/// A NATS transport with these settings (connects on `start()`).
std::shared_ptr<brook::transport> make_transport(const settings& s);

/// `nats://user:pw@host:4222,nats://b:4222` with every password and token replaced by `***`.
std::string redact_url(std::string_view url);

}  // namespace brook::nats
