#pragma once
/// @file
/// Redis driver: settings, URL parsing and the transport factory.
///
/// The driver speaks to Redis through hiredis on one event-loop thread of its
/// own (libevent). Other threads hand it commands through a queue; it hands
/// deliveries to the core's `delivery_sink` from that thread. No hiredis or
/// libevent header is visible here.
///
/// @code
/// brook::redis::settings s;
/// s.url = "redis://:secret@127.0.0.1:6390/2";
/// s.pubsub_buffer = 1000;
/// auto t = brook::redis::make_transport(s);
/// if (auto err = t->start()) std::cerr << err.message << '\n';   // keeps retrying
/// auto sub = t->subscribe(brook::subscription_spec::of(brook::redis::list{.name = "orders"}),
/// sink); sub->request(16);                                  // credit: at most 16 deliveries
/// brook::outgoing out{.channel = "orders", .body = R"({"id":1})",
///                     .content_type = "application/json", .driver = brook::redis::list_out{}};
/// t->publish(std::move(out), [](const brook::error_info& e) { /* e.code == errc::ok */ });
/// @endcode
///
// clang-format off
/// ## Subscriptions (`subscription_spec::driver`, types in `brook/redis/specs.hpp`)
/// | declaration | Redis side | credit | capabilities (what the core decides by) |
/// |---|---|---|---|
/// | `channel` (or none) | SUBSCRIBE `address`; PSUBSCRIBE when `pattern` (Redis glob: `*`, `?`, `[ab]`) | cannot pause: a bounded buffer per subscription (`pubsub_buffer`), overflow counted | acks none, not pausable: a nack is a counted drop |
/// | `list` | BLMPOP `address` LEFT COUNT min(credit, batch) (Redis < 7: LPOP count, BLPOP when empty) | pops only while credit > 0 | acks none (a pop is final): a nack or a dead handler is a counted drop |
/// | `stream`, no `group` | XREAD COUNT min(credit, batch) BLOCK | reads only while credit > 0 | acks none |
/// | `stream` + `group` | XREADGROUP GROUP group consumer COUNT min(credit, batch) BLOCK | reads only while credit > 0 | per-message acks: ack = XACK, nack = leave pending (claimed back once idle), reject = XACK |
/// | `stream` + `group` + `no_ack` | XREADGROUP ... NOACK | reads only while credit > 0 | acks none |
///
/// Members of the declarations; a contradiction (a `consumer` without a group, `no_ack` with
/// `min_idle`) fails the subscription with a sentence naming it:
/// | member | of | default | meaning |
/// |---|---|---|---|
/// | `batch` | list, stream | 0 = `settings::read_batch` | most entries fetched by one read (never more than the credit) |
/// | `block` | list, stream | `settings::block_time` | how long one blocking read waits before it is reissued (0 = no limit) |
/// | `last_id` | stream | `$` | where a new reader (no group) or a newly created group starts: `$` = entries added once the subscription's connection is up, `0` = from the beginning |
/// | `consumer` | stream + group | `brook:<host>:<stream>` (`:<n>` for the n-th subscriber of that stream and group in the process) | consumer name; stable across restarts, so a restarted service re-reads its own pending entries |
/// | `no_ack` | stream + group | `false` | XREADGROUP NOACK: entries never become pending; deliveries carry no acknowledger |
/// | `min_idle` | stream + group | 60 s (0 without acks) | XAUTOCLAIM entries pending longer than this (dead consumers, nacks), every `min_idle`; 0 = never |
// clang-format on
///
/// Streams with a group: the group is created with MKSTREAM when missing (at `last_id`; when it
/// vanishes later, e.g. a server restart without persistence, it is re-created at `0` so nothing
/// published meanwhile is skipped). A consumer first re-reads its own pending entries (after a
/// restart, under its stable name), then new ones. `reject` acknowledges the entry, so it is
/// gone for good (FastStream leaves it pending instead); dead-lettering is the core's job
/// (`subscriber_builder::dead_letter`). `nack` leaves it pending: it comes back through
/// XAUTOCLAIM (`min_idle`) or a restart. A handler still busy after `min_idle` may see
/// its entry claimed again (at-least-once): keep `min_idle` above the slowest handler.
///
/// Pub/sub keeps nothing for absent subscribers: what is published while the SUBSCRIBE
/// connection is down is never seen (the `errc::disconnected` event marks the gap); after the
/// reconnect every channel and pattern is subscribed again. Streams lose nothing on a
/// reconnect: reads resume where Redis stands. Lists: a BLMPOP whose reply is lost with the
/// connection may already have popped its items on the server; those are lost and cannot be
/// counted (the driver never saw them). Use a stream with a group where that matters.
///
/// Cancelling a subscription (a drain) stops reading at once: popped-but-undelivered list
/// items are pushed back to the head (a failed push-back is counted in `dropped()`), stream
/// entries stay pending, and a pub/sub buffer is handed to the core (it cannot be returned),
/// followed by whatever Redis pushed before it took the UNSUBSCRIBE (`done` runs once the
/// server confirms it).
///
/// Gaps (`delivery_sink::gap`): when the pub/sub connection drops, every live channel and
/// pattern subscription reports one (what is published until the re-SUBSCRIBE is never seen);
/// when a list's pop was in flight as the connection dropped, that subscription reports one
/// (its reply may have held popped items). The core counts them in `gaps`.
///
/// Envelope metadata: `kind` (channel|list|stream) everywhere; `pattern` for pattern
/// deliveries; `stream_id` for streams, plus `group`, `consumer` and `redelivered` (`true` for
/// claimed or re-read pending entries) with a group. `envelope::delivery` carries the same:
/// `broker_id` (entry id, list key or channel), `redelivered`, `attempt` (2 for a redelivered
/// entry: Redis keeps the exact count in XPENDING only).
///
// clang-format off
/// ## Publishing (`outgoing::driver`)
/// | target | Redis side |
/// |---|---|
/// | none, or `channel` | PUBLISH (never to a pattern) |
/// | `list_out` | RPUSH |
/// | `stream_out` | XADD with the envelope in field `__data__`; `maxlen` > 0 adds MAXLEN ~ maxlen |
// clang-format on
///
/// Every message is sent as FastStream's binary envelope (BinaryMessageFormatV1). Publishes from
/// any thread are pipelined on one connection. While Redis is unreachable they wait (bounded by
/// `max_queued` and `queued_timeout`) and are sent after the reconnect, or completed with
/// `errc::disconnected`; a publish whose reply was lost with the connection is sent again
/// (at-least-once: it may arrive twice).
///
/// ## Replies
/// `open_replies` subscribes a fresh channel `brook-reply-<uuid>`; publishes carrying that
/// `reply_to` are held until the SUBSCRIBE is confirmed, so no reply can be missed.
#include <brook/errc.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace brook::redis {

/// What a pub/sub subscription does with a message that arrives while its buffer is full.
enum class overflow_policy {
  drop_oldest,  ///< discard the oldest buffered message (the newest data wins)
  drop_newest,  ///< discard the arriving message (the buffered backlog wins)
};

/// A parsed `redis://` URL.
struct endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string user;      ///< ACL user; empty = `default`
  std::string password;  ///< empty = no AUTH
  int db = 0;
};

/// Parses `redis://[[user]:password@]host[:port][/db]` (IPv6 hosts in brackets).
/// Returns `errc::invalid_argument` with a sentence naming the bad part.
/// @code
/// brook::redis::endpoint ep;
/// if (auto err = brook::redis::parse_url("redis://:pw@localhost:6390/1", ep)) fail(err.message);
/// @endcode
error_info parse_url(std::string_view url, endpoint& out);

// clang-format off
/// Driver settings. Table of options and defaults:
///
/// | field | default | meaning |
/// |---|---|---|
/// | `url` | `redis://127.0.0.1:6379` | server, credentials and database; `rediss://` is refused (Debian's hiredis 0.14 has no TLS) |
/// | `db` | -1 | database number; -1 = the one in `url` (or 0) |
/// | `client_name` | `brook` | prefix of CLIENT SETNAME (`<name>-cmd`, `<name>-sub`, `<name>-list-<key>`, ...) |
/// | `connect_timeout` | 2 s | one connection attempt, including AUTH/SELECT; also how long `start()` waits |
/// | `reconnect_backoff_min` / `_max` | 100 ms / 5 s | exponential backoff between attempts (doubling, +-20% jitter) |
/// | `pubsub_buffer` | 10000 | messages a pub/sub subscription holds beyond its credit |
/// | `pubsub_overflow` | `drop_oldest` | what goes when that buffer is full; drops are counted in `subscription::dropped()` |
/// | `block_time` | 1 s | BLMPOP / XREAD BLOCK time; cancellation does not wait for it (CLIENT UNBLOCK) |
/// | `read_batch` | 100 | default `batch` of list and stream subscriptions |
/// | `max_queued` | 100000 | publishes and acks held while disconnected; beyond it publishes fail at once (and an ack is dropped: its entry stays pending) |
/// | `queued_timeout` | 10 s | a held publish fails with `errc::disconnected` after this |
/// | `close_timeout` | 2 s | how long `close()` waits for in-flight commands and pushed-back list items |
/// | `heartbeat` | 1 s | how often the command connection checks that Redis answers (a PING when idle) |
/// | `stall_timeout` | 5 s | commands unanswered this long mean Redis stalled (stopped process, half-open TCP): every connection is dropped and remade, readiness is false meanwhile; 0 = never |
/// | `on_event` | empty | see below; `brook::redis::broker` logs these events when left empty |
// clang-format on
struct settings {
  std::string url = "redis://127.0.0.1:6379";
  int db = -1;
  std::string client_name = "brook";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_backoff_min{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  std::size_t pubsub_buffer = 10000;
  overflow_policy pubsub_overflow = overflow_policy::drop_oldest;
  std::chrono::milliseconds block_time{1000};
  std::size_t read_batch = 100;
  std::size_t max_queued = 100000;
  std::chrono::milliseconds queued_timeout{10000};
  std::chrono::milliseconds close_timeout{2000};
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds stall_timeout{5000};
  /// Driver conditions worth a log line: a connection lost (`errc::disconnected`), restored
  /// (`errc::ok` with a message), failed attempts (`errc::connection_failed`, first and then
  /// at most once per backoff maximum), pub/sub overflow (`errc::overflow`, at most once per
  /// second per subscription, with the running total), a payload that starts like a binary
  /// envelope but does not parse and is delivered as raw bytes (`errc::decode_failed`, naming
  /// the channel or key and a stream entry's id; at once, then at most once a minute per
  /// subscription with the count). The driver logs nothing itself.
  /// @warning Called on the driver thread: must be thread-safe and must not block.
  std::function<void(const error_info&)> on_event;
};

/// Creates a Redis transport. Never throws for bad settings: a bad `url` makes `start()` return
/// `errc::invalid_argument`, publishes fail and subscriptions report `failed()` with that error.
/// The connection is made by `start()` (or lazily by the first subscribe/publish).
/// @warning Do not destroy the transport (or call `close()`) from inside a delivery or a
/// publish callback: those run on the driver thread that `close()` joins.
std::shared_ptr<brook::transport> make_transport(const settings& s);

}  // namespace brook::redis
