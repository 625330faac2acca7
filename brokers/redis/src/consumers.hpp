#pragma once
/// @file
/// The three subscription kinds. All members belong to the loop thread except the atomics in
/// `consumer`.
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine.hpp"

namespace brook::redis {

/// Pub/sub (channel or pattern): Redis pushes whether or not we have credit, so messages
/// beyond the credit wait in a bounded buffer and the overflow is counted.
class channel_consumer final : public consumer {
public:
  /// `unbounded`: a reply channel, delivered without credit.
  channel_consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink,
                   bool unbounded);
  void start() override;
  void kick() override;
  void cancel() override;
  /// From the hub: one message for this subscription (after a cancel too, until
  /// the server confirms the unsubscribe: it cannot be returned, so it goes to the core).
  void offer(envelope_ptr env);
  /// From the hub: the server confirmed the unsubscribe, or the connection is gone.
  void left() { retire_now(); }
  const std::string& address() const noexcept { return spec_.address; }
  bool is_pattern() const noexcept { return spec_.pattern; }

private:
  std::deque<envelope_ptr> buffer_;
  std::size_t bound_;
  overflow_policy policy_;
  clock::time_point last_report_{};
};

/// Shared machinery of the consumers that pull (lists, streams): their own connection, one
/// read in flight at a time, a backlog for anything fetched beyond the credit.
class polling_consumer : public consumer {
public:
  /// `batch` 0 and an unset `block` take the settings' defaults.
  polling_consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink,
                   std::size_t batch, std::optional<std::chrono::milliseconds> block);
  void start() override;
  void kick() override { pump(); }
  void cancel() override;
  void shutdown() override;

protected:
  /// Issues the next read; called with credit > 0, nothing in the backlog, connection ready.
  virtual void read(std::size_t n) = 0;
  /// Delivers one backlog item (loop thread, credit already taken).
  virtual void deliver_front() = 0;
  virtual bool backlog_empty() const = 0;
  /// The connection is (again) ready.
  virtual void on_connected() {}
  /// Cancelled and idle: return or count what was fetched but not delivered.
  virtual void on_finished() {}
  /// A read's reply was lost with the connection (not by a cancel).
  virtual void on_read_lost() {}

  void pump();
  /// From a read's reply handler, before its `arrived` items are delivered: asks for the
  /// next batch now, within the credit those items leave, so the server pops it while this
  /// batch is decoded and handed over (one read in flight, never idle between batches).
  void read_ahead(std::size_t arrived);
  /// Sends a read; the handler gets the reply (never null) unless the read was lost.
  void issue(command_args argv, bool blocking, std::function<void(redisReply*)> handler);
  /// Handles an error reply: retries transient ones after a pause, fails on the rest.
  void on_error_reply(std::string_view what, const redisReply* r);

  std::unique_ptr<connection> conn_;
  std::unique_ptr<timer> retry_;  // pause after a transient error reply (LOADING, BUSY, ...)
  std::size_t batch_;
  std::chrono::milliseconds block_;
  bool reading_ = false;
  bool blocking_ = false;
  bool handling_ = false;
  bool finishing_ = false;

private:
  void maybe_finish();
};

/// A list: BLMPOP COUNT min(credit, batch) only while there is credit (LPOP count + BLPOP on
/// servers before Redis 7).
class list_consumer final : public polling_consumer {
public:
  list_consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink,
                const list& l);

private:
  void read(std::size_t n) override;
  void legacy_read(std::size_t n);
  void blocking_pop();
  std::string block_seconds() const;
  /// One popped element: delivered at once when there is credit, else kept raw.
  void take(std::string_view raw);
  void deliver_raw(std::string_view raw);
  void deliver_front() override;
  bool backlog_empty() const override { return backlog_.empty(); }
  void on_finished() override;
  void on_read_lost() override;

  std::deque<std::string> backlog_;  // raw, so it can be pushed back unchanged
  bool blmpop_ = true;
};

/// A stream, with or without a consumer group.
class stream_consumer final : public polling_consumer {
public:
  stream_consumer(engine& eng, subscription_spec spec, std::shared_ptr<delivery_sink> sink,
                  const stream& s);

private:
  struct entry {
    std::string id;
    std::vector<std::pair<std::string, std::string>> fields;
    bool redelivered;
  };
  using field_views = std::vector<std::pair<std::string_view, std::string_view>>;
  void start() override;
  void read(std::size_t n) override;
  void deliver_front() override;
  void deliver_entry(std::string_view id, const field_views& fields, bool redelivered);
  bool backlog_empty() const override { return backlog_.empty(); }
  void on_connected() override;
  void on_finished() override;
  void create_group();
  void claim(std::size_t n);
  /// Appends the entries of an XRANGE-shaped array; returns how many there were.
  std::size_t take_entries(const redisReply* arr, bool redelivered);
  /// Appends the entries of an XREAD/XREADGROUP reply (nil = timeout).
  std::size_t take_read_reply(const redisReply* r, bool redelivered);

  std::deque<entry> backlog_;
  field_views scratch_;  // reused per entry on the direct delivery path
  std::string group_;
  std::string consumer_name_;
  std::string start_id_;
  std::string last_id_;         // XREAD position (no group)
  std::string pending_cursor_;  // own pending entries re-read from here (group)
  std::string last_seen_id_;    // last id of the latest take_entries()
  std::string claim_cursor_ = "0-0";
  std::chrono::milliseconds min_idle_{0};
  clock::time_point next_claim_{};
  bool no_ack_ = false;
  bool auto_name_ = true;  // no `consumer` option: a stable name is taken at start
  bool group_ready_ = false;
  bool group_created_ = false;
  bool reading_pending_ = true;
  std::shared_ptr<const std::pair<std::string, std::string>> ack_target_;
};

}  // namespace brook::redis
