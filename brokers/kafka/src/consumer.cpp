// A Kafka subscription: its own consumer handle and poll thread. The thread is
// the only one touching the handle and the commit tracker; settlements arrive
// from the core's threads through a queue. Credit: the thread takes a message
// only while the subscriber has credit; without credit (or while stopping) the
// assigned partitions are paused, and the thread keeps polling so the member
// stays in its group. A revoked partition's in-flight messages get
// `revoke_timeout` to settle before the settled prefix is committed and the
// partition given up.
#include <algorithm>
#include <brook/commit_tracker.hpp>
#include <brook/detail/envelope_pool.hpp>
#include <brook/detail/ids.hpp>
#include <brook/kafka/specs.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <unordered_map>

#include "envelope.hpp"
#include "subscriptions.hpp"

namespace brook::kafka {

namespace {

using namespace std::chrono_literals;

enum class outcome : std::uint8_t { settled, failed };

/// What the poll thread knows of one topic it reads: its commit tracker and what it
/// sought back for, by partition. Never moved (a deque of them), so settlements point here.
struct topic_slot {
  const rd_kafka_topic_t* rkt = nullptr;  ///< the handle's topic object, for a quick lookup
  std::string name;
  commit_tracker tracker;
  struct partition_seen {
    std::int64_t max = -1;                        ///< the highest offset delivered
    std::map<std::int64_t, std::uint32_t> nacks;  ///< offset -> nacks so far
  };
  std::unordered_map<std::int32_t, partition_seen> seen;
  std::size_t nacked = 0;  ///< entries in every `seen[p].nacks`
};

struct settlement {
  topic_slot* topic;
  std::int32_t partition;
  std::int64_t offset;
  outcome how;
};

/// A partition list that frees itself.
struct tp_list {
  rd_kafka_topic_partition_list_t* p;
  explicit tp_list(int n = 4) : p(rd_kafka_topic_partition_list_new(n)) {}
  ~tp_list() { rd_kafka_topic_partition_list_destroy(p); }
  tp_list(const tp_list&) = delete;
  tp_list& operator=(const tp_list&) = delete;
  void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
    rd_kafka_topic_partition_list_add(p, topic.c_str(), partition)->offset = offset;
  }
};

class consumer_state final : public link_listener,
                             public std::enable_shared_from_this<consumer_state> {
public:
  consumer_state(std::shared_ptr<client> cl, subscription_spec spec,
                 std::shared_ptr<delivery_sink> sink, bool unlimited)
      : cl_(std::move(cl)), spec_(std::move(spec)), sink_(std::move(sink)), unlimited_(unlimited) {
    if (auto* t = spec_.driver.get<topic>())
      topic_ = *t;
    topic_.name = spec_.address;
    topic_.group = spec_.group;
    if (spec_.pattern)
      topic_.pattern = true;
    grouped_ = !topic_.group.empty() && topic_.partitions.empty();
    caps_ = topic_.capabilities();
  }

  brook::capabilities capabilities() const noexcept { return caps_; }

  /// Creates the consumer and subscribes (a group) or assigns (partitions).
  error_info open() {
    std::map<std::string, std::string> extra = topic_.config;
    if (grouped_) {
      extra.emplace("group.id", topic_.group);
      if (!topic_.group_instance_id.empty())
        extra.emplace("group.instance.id", topic_.group_instance_id);
      if (topic_.cooperative)
        extra.emplace("partition.assignment.strategy", "cooperative-sticky");
    }
    if (!grouped_)  // assigned partitions: no group to join, nothing committed
      extra.emplace("group.id", "brook-assign-" + detail::new_uuid());
    extra.emplace("auto.offset.reset",
                  topic_.reset == offset_reset::earliest ? "earliest" : "latest");
    std::string err;
    auto* conf = cl_->make_conf(false, extra, err);
    if (!conf)
      return {errc::invalid_argument, err};
    rd_kafka_conf_set_opaque(conf, this);
    if (grouped_) {
      rd_kafka_conf_set_rebalance_cb(conf, rebalance_trampoline);
      rd_kafka_conf_set_offset_commit_cb(conf, commit_trampoline);
    }
    char text[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, text, sizeof text);
    if (!rk_) {
      rd_kafka_conf_destroy(conf);
      return {errc::invalid_argument, std::string{"kafka: consumer: "} + text};
    }
    rd_kafka_poll_set_consumer(rk_);
    if (grouped_) {
      // Made now when missing (the broker's default partitions), so the group's first
      // assignment has it and nothing published from now on is missed.
      if (!topic_.pattern)
        (void)cl_->create_topic(topic_.name, -1, cl_->cfg().connect_timeout);
      for (auto& t : topic_.more)
        (void)cl_->create_topic(t, -1, cl_->cfg().connect_timeout);
      tp_list topics;
      topics.add(topic_.name, RD_KAFKA_PARTITION_UA, RD_KAFKA_OFFSET_INVALID);
      for (auto& t : topic_.more)
        topics.add(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_OFFSET_INVALID);
      if (auto e = rd_kafka_subscribe(rk_, topics.p))
        return kafka_error(e, "kafka: subscribing to '" + topic_.name + "'");
      return {};
    }
    return assign_manually();
  }

  void start() {
    cl_->listen(shared_from_this());
    thread_ = std::thread([this] { run(); });
  }

  void request(std::size_t n) {
    {
      std::lock_guard lock{mtx_};
      credit_ += n;
    }
    cv_.notify_all();
  }

  void cancel(std::function<void()> done) {
    std::unique_lock lock{mtx_};
    if (done)
      on_cancel_.push_back(std::move(done));
    stop_ = true;
    if (cancel_seen_) {
      auto fs = std::move(on_cancel_);
      on_cancel_.clear();
      lock.unlock();
      for (auto& f : fs)
        f();
    }
  }

  /// Stops for good: commits what settled, leaves the group, destroys the handle.
  void join() {
    cancel(nullptr);
    {
      std::lock_guard lock{mtx_};
      finish_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
      thread_.join();
    else if (thread_.joinable())
      thread_.detach();
    cl_->forget(this);
  }

  /// From an acknowledger, any thread.
  void settle(settlement s) {
    {
      std::lock_guard lock{mtx_};
      settlements_.push_back(std::move(s));
    }
    cv_.notify_all();
  }

  void link_lost(const error_info& why) override { sink_->interrupted(why); }
  void link_back() override {
    if (assigned_once_)
      sink_->subscribed();
  }

  bool seek(const seek_request& r) override {
    if (unlimited_ || !reads(r.topic))
      return false;
    {
      std::lock_guard lock{mtx_};
      seeks_.push_back(r);
    }
    cv_.notify_all();
    return true;
  }

  ~consumer_state() override {
    if (rk_)
      rd_kafka_destroy(rk_);
  }

private:
  static void rebalance_trampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* parts, void* opaque) {
    static_cast<consumer_state*>(opaque)->on_rebalance(rk, err, parts);
  }

  error_info assign_manually() {
    tp_list parts;
    const auto start =
        topic_.reset == offset_reset::earliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    std::vector<std::int32_t> ids = topic_.partitions;
    if (ids.empty()) {
      // Every partition of the topic (made with one when it is missing).
      if (!unlimited_)
        (void)cl_->create_topic(topic_.name, 1, cl_->cfg().connect_timeout);
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic_.name.c_str(), nullptr);
      const rd_kafka_metadata_t* md = nullptr;
      auto e =
          rd_kafka_metadata(rk_, 0, rkt, &md, static_cast<int>(cl_->cfg().connect_timeout.count()));
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
        for (int i = 0; i < md->topics[0].partition_cnt; ++i)
          ids.push_back(md->topics[0].partitions[i].id);
      if (md)
        rd_kafka_metadata_destroy(md);
      rd_kafka_topic_destroy(rkt);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return kafka_error(e, "kafka: the partitions of '" + topic_.name + "'");
      if (ids.empty())
        ids.push_back(0);
    }
    const bool by_time = topic_.start_timestamp_ms > 0;
    for (auto id : ids)
      parts.add(topic_.name, id,
                by_time                    ? topic_.start_timestamp_ms
                : topic_.start_offset >= 0 ? topic_.start_offset
                                           : start);
    if (by_time) {
      // The offsets of the first records at or after the time (-1: none yet, the end).
      auto e = rd_kafka_offsets_for_times(rk_, parts.p,
                                          static_cast<int>(cl_->cfg().connect_timeout.count()));
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return kafka_error(e, "kafka: the offsets of '" + topic_.name + "' at " +
                                  std::to_string(topic_.start_timestamp_ms));
      for (int i = 0; i < parts.p->cnt; ++i)
        if (parts.p->elems[i].offset < 0)
          parts.p->elems[i].offset = RD_KAFKA_OFFSET_END;
    }
    if (auto e = rd_kafka_assign(rk_, parts.p))
      return kafka_error(e, "kafka: assigning '" + topic_.name + "'");
    assigned_once_ = true;
    return {};
  }

  void run() {
    if (!grouped_)
      sink_->subscribed();
    while (true) {
      std::size_t credit;
      bool stopping, finishing;
      {
        std::unique_lock lock{mtx_};
        stopping = stop_;
        finishing = finish_;
        credit = unlimited_ ? 1 : credit_;
        if (stopping && !cancel_seen_) {
          // From here on nothing is delivered: the cancel is complete.
          cancel_seen_ = true;
          auto fs = std::move(on_cancel_);
          on_cancel_.clear();
          lock.unlock();
          for (auto& f : fs)
            f();
        }
      }
      apply_settlements();
      apply_seeks();
      // The clock is read every 64 records (or when a poll came back empty), not per record.
      if ((++since_clock_ & 63) == 0 || idle_) {
        if (std::chrono::steady_clock::now() >= next_commit_)
          commit(false);  // what settled since the last interval
      }
      if (finishing)
        break;
      if (!stopping && credit == 0 && !paused_ && wait_for_credit())
        continue;
      set_paused(stopping || credit == 0);
      auto* m = rd_kafka_consumer_poll(
          rk_, static_cast<int>((paused_ ? 50ms : cl_->cfg().poll_wait).count()));
      idle_ = m == nullptr;
      if (!m)
        continue;
      if (m->err) {
        on_poll_error(*m);
        rd_kafka_message_destroy(m);
        continue;
      }
      take(m, stopping, credit);
      rd_kafka_message_destroy(m);
    }
    finish();
  }

  /// Without credit, first wait without polling: librdkafka keeps what it fetched
  /// in its own bounded queue, so credit coming back soon costs nothing. Only when
  /// it stays away (a slow handler) are the partitions paused, so this member can
  /// go on polling (rebalances, max.poll.interval.ms) without taking anything.
  /// Returns true to go round the loop again (credit, a settlement or a stop came).
  bool wait_for_credit() {
    const auto now = std::chrono::steady_clock::now();
    if (!no_credit_since_)
      no_credit_since_ = now;
    const auto until = *no_credit_since_ + pause_after;
    if (now >= until)
      return false;
    std::unique_lock lock{mtx_};
    cv_.wait_until(lock, until, [&] {
      return credit_ > 0 || stop_ || finish_ || !settlements_.empty() || !seeks_.empty();
    });
    if (credit_ > 0)
      no_credit_since_.reset();
    return true;
  }
  static constexpr auto pause_after = std::chrono::milliseconds{500};

  /// The slot of the topic `m` came from (made on its first record).
  topic_slot& slot_of(const rd_kafka_message_t& m) {
    for (auto& t : topics_)
      if (t.rkt == m.rkt)
        return t;
    auto& t = slot_named(rd_kafka_topic_name(m.rkt));
    t.rkt = m.rkt;
    return t;
  }
  topic_slot& slot_named(std::string_view name) {
    for (auto& t : topics_)
      if (t.name == name)
        return t;
    auto& t = topics_.emplace_back();
    t.name = name;
    return t;
  }

  void take(rd_kafka_message_t* m, bool stopping, std::size_t credit) {
    if (stopping)
      return;  // not tracked, not committed: the partition's next reader gets it
    auto& slot = slot_of(*m);
    if (credit == 0) {
      // Fetched before the pause: come back to it when there is credit.
      tp_list back;
      back.add(slot.name, m->partition, m->offset);
      if (auto* e = rd_kafka_seek_partitions(rk_, back.p, 0))
        rd_kafka_error_destroy(e);
      return;
    }
    if (grouped_ && !slot.tracker.delivered(m->partition, m->offset))
      return;  // fetched before a seek back: it comes again
    std::shared_ptr<acknowledger> old_ack;
    auto env = pool_.get(&old_ack);
    to_envelope(*m, *env);
    if (grouped_) {
      // Kafka keeps no delivery count: this consumer counts what it sought back for.
      auto& seen = slot.seen[m->partition];
      auto n = seen.nacks.find(m->offset);
      if (n != seen.nacks.end()) {
        env->delivery.attempt = n->second + 1;
        env->delivery.redelivered = true;
      } else if (seen.max >= m->offset) {
        env->delivery.attempt = 2;
        env->delivery.redelivered = true;
      }
      seen.max = std::max(seen.max, m->offset);
    }
    if (grouped_) {
      if (old_ack) {
        static_cast<record_ack&>(*old_ack).rearm(&slot, m->partition, m->offset);
        env->ack = std::move(old_ack);
      } else {
        env->ack = std::make_shared<record_ack>(weak_from_this(), &slot, m->partition, m->offset);
      }
    }
    if (!unlimited_) {
      std::lock_guard lock{mtx_};
      if (credit_ > 0)
        --credit_;
    }
    sink_->deliver(std::move(env));
  }

  void on_poll_error(const rd_kafka_message_t& m) {
    auto where = std::string{"kafka: consuming '"} +
                 (m.rkt ? rd_kafka_topic_name(m.rkt) : topic_.name.c_str()) + "'";
    if (m.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
        m.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      sink_->gap(kafka_error(m.err, where));  // the broker no longer has what came next
      return;
    }
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      return;
    if (cl_->cfg().on_event)
      cl_->cfg().on_event(kafka_error(m.err, where));
  }

  bool reads(const std::string& name) const {
    if (topic_.pattern) {
      try {
        return std::regex_search(name, std::regex{topic_.name});
      } catch (const std::regex_error&) {
        return false;
      }
    }
    return name == topic_.name ||
           std::find(topic_.more.begin(), topic_.more.end(), name) != topic_.more.end();
  }

  /// Applies the seeks asked for: on the partitions this consumer holds, what settled is
  /// committed, the rest of the partition's tracking is dropped (the handlers finish what
  /// they run, their outcomes no longer move the commit) and the partition is moved.
  void apply_seeks() {
    std::vector<seek_request> todo;
    {
      std::lock_guard lock{mtx_};
      if (seeks_.empty())
        return;
      todo.swap(seeks_);
    }
    rd_kafka_topic_partition_list_t* held = nullptr;
    if (rd_kafka_assignment(rk_, &held) != RD_KAFKA_RESP_ERR_NO_ERROR || !held)
      return;
    const int wait = static_cast<int>(cl_->cfg().connect_timeout.count());
    for (auto& r : todo) {
      tp_list parts;
      for (int i = 0; i < held->cnt; ++i)
        if (r.topic == held->elems[i].topic &&
            (r.partition < 0 || r.partition == held->elems[i].partition))
          parts.add(r.topic, held->elems[i].partition, r.offset);
      const auto where = "kafka: seeking '" + r.topic + "'" +
                         (r.partition < 0 ? "" : " partition " + std::to_string(r.partition));
      if (parts.p->cnt == 0) {
        if (r.partition >= 0 && cl_->cfg().on_event)
          cl_->cfg().on_event({errc::not_found, where + ": this subscription of '" + topic_.name +
                                                    "' does not hold it"});
        continue;
      }
      if (r.by_time) {
        if (auto e = rd_kafka_offsets_for_times(rk_, parts.p, wait)) {
          if (cl_->cfg().on_event)
            cl_->cfg().on_event(kafka_error(e, where + " to " + std::to_string(r.offset)));
          continue;
        }
        for (int i = 0; i < parts.p->cnt; ++i)
          if (parts.p->elems[i].offset < 0)
            parts.p->elems[i].offset = RD_KAFKA_OFFSET_END;  // nothing that late yet
      }
      if (grouped_) {
        apply_settlements();
        commit(true);
        auto& slot = slot_named(r.topic);
        for (int i = 0; i < parts.p->cnt; ++i) {
          const auto p = parts.p->elems[i].partition;
          if (auto gone = slot.seen.find(p); gone != slot.seen.end()) {
            slot.nacked -= gone->second.nacks.size();
            slot.seen.erase(gone);
          }
          (void)slot.tracker.revoke(p);  // a later delivery starts afresh
        }
      }
      if (auto* e = rd_kafka_seek_partitions(rk_, parts.p, wait)) {
        if (cl_->cfg().on_event)
          cl_->cfg().on_event({errc::invalid_argument, where + ": " + rd_kafka_error_string(e)});
        rd_kafka_error_destroy(e);
        continue;
      }
      for (int i = 0; i < parts.p->cnt; ++i)
        if (parts.p->elems[i].err && cl_->cfg().on_event)
          cl_->cfg().on_event(kafka_error(parts.p->elems[i].err, where));
    }
    rd_kafka_topic_partition_list_destroy(held);
  }

  /// Applies what the core settled: commits the prefix that advanced, seeks back for nacks.
  void apply_settlements() {
    std::deque<settlement> batch;
    {
      std::lock_guard lock{mtx_};
      batch.swap(settlements_);
    }
    if (batch.empty())
      return;
    tp_list seeks;
    for (auto& s : batch) {
      auto& t = s.topic->tracker;
      if (s.how == outcome::settled) {
        t.settled(s.partition, s.offset);
        if (s.topic->nacked == 0)
          continue;  // the common case: nothing sought back to forget
      }
      auto& seen = s.topic->seen[s.partition];
      if (s.how == outcome::settled) {
        s.topic->nacked -= seen.nacks.erase(s.offset);
      } else if (auto to = t.failed(s.partition, s.offset)) {
        seeks.add(s.topic->name, s.partition, *to);
        if (seen.nacks[s.offset]++ == 0)
          ++s.topic->nacked;
      }
      // What is below the commit position never comes again.
      if (auto pos = t.committable(s.partition)) {
        auto end = seen.nacks.lower_bound(*pos);
        s.topic->nacked -= static_cast<std::size_t>(std::distance(seen.nacks.begin(), end));
        seen.nacks.erase(seen.nacks.begin(), end);
      }
    }
    if (seeks.p->cnt > 0)
      if (auto* e = rd_kafka_seek_partitions(rk_, seeks.p, 0))
        rd_kafka_error_destroy(e);
  }
  static constexpr auto commit_interval = std::chrono::milliseconds{100};

  void commit(bool sync) {
    tp_list offsets;
    for (auto& t : topics_)
      for (auto [p, pos] : t.tracker.take_commits())
        offsets.add(t.name, p, pos);
    if (offsets.p->cnt == 0)
      return;
    // One commit request per interval, not per settlement: the position only moves on.
    next_commit_ = std::chrono::steady_clock::now() + commit_interval;
    if (auto e = rd_kafka_commit(rk_, offsets.p, sync ? 0 : 1); e && cl_->cfg().on_event)
      cl_->cfg().on_event(kafka_error(e, "kafka: committing offsets of '" + topic_.name + "'"));
  }

  static void commit_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t*, void* opaque) {
    auto* self = static_cast<consumer_state*>(opaque);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET && self->cl_->cfg().on_event)
      self->cl_->cfg().on_event(
          kafka_error(err, "kafka: a commit of '" + self->topic_.name +
                               "' failed (the next one covers it; at worst its messages "
                               "come again)"));
  }

  void set_paused(bool pause) {
    if (!pause)
      no_credit_since_.reset();
    if (pause == paused_)
      return;
    rd_kafka_topic_partition_list_t* parts = nullptr;
    if (rd_kafka_assignment(rk_, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || !parts)
      return;
    if (pause)
      rd_kafka_pause_partitions(rk_, parts);
    else
      rd_kafka_resume_partitions(rk_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    paused_ = pause;
  }

  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::string_view{rd_kafka_rebalance_protocol(rk)} == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        if (auto* e = rd_kafka_incremental_assign(rk, parts))
          rd_kafka_error_destroy(e);
      } else {
        rd_kafka_assign(rk, parts);
      }
      if (paused_)
        rd_kafka_pause_partitions(rk, parts);
      assigned_once_ = true;
      sink_->subscribed();
      return;
    }
    // Revoked: let what is in flight there finish, commit the settled prefix, give them up.
    finish_revoked(parts);
    if (cooperative) {
      if (auto* e = rd_kafka_incremental_unassign(rk, parts))
        rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  void finish_revoked(rd_kafka_topic_partition_list_t* parts) {
    auto in_flight = [&] {
      std::size_t n = 0;
      for (int i = 0; i < parts->cnt; ++i)
        n += slot_named(parts->elems[i].topic).tracker.in_flight(parts->elems[i].partition);
      return n;
    };
    // Closing: the subscriber has finished (or given back) what it could; nothing more comes.
    const auto deadline =
        std::chrono::steady_clock::now() + (closing_ ? 0ms : cl_->cfg().revoke_timeout);
    apply_settlements();
    while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      {
        std::unique_lock lock{mtx_};
        cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + 50ms),
                       [&] { return !settlements_.empty(); });
      }
      apply_settlements();
    }
    commit(true);
    std::size_t abandoned = 0;
    tp_list last;
    for (int i = 0; i < parts->cnt; ++i) {
      auto& slot = slot_named(parts->elems[i].topic);
      auto& t = slot.tracker;
      abandoned += t.in_flight(parts->elems[i].partition);
      if (auto gone = slot.seen.find(parts->elems[i].partition); gone != slot.seen.end()) {
        slot.nacked -= gone->second.nacks.size();
        slot.seen.erase(gone);
      }
      if (auto pos = t.revoke(parts->elems[i].partition))
        last.add(parts->elems[i].topic, parts->elems[i].partition, *pos);
    }
    if (last.p->cnt > 0)
      (void)rd_kafka_commit(rk_, last.p, 0);
    if (abandoned > 0 && !closing_ && cl_->cfg().on_event)
      cl_->cfg().on_event(
          {errc::timeout, "kafka: " + std::to_string(abandoned) + " message(s) of '" + topic_.name +
                              "' still running after revoke_timeout when the " +
                              "group took their partitions away: abandoned (not committed, so " +
                              "the partitions' next owner gets them again)"});
  }

  void finish() {
    closing_ = true;
    apply_settlements();
    commit(true);
    if (grouped_)
      rd_kafka_consumer_close(rk_);  // leaves the group: the revoke above runs once more
  }

  class record_ack final : public acknowledger {
  public:
    record_ack(std::weak_ptr<consumer_state> owner, topic_slot* topic, std::int32_t partition,
               std::int64_t offset)
        : owner_(std::move(owner)), topic_(topic), partition_(partition), offset_(offset) {}
    void ack() override { once(outcome::settled); }
    void reject() override { once(outcome::settled); }  // settled for good: committed past it
    void nack() override { once(outcome::failed); }
    /// Points a settled acknowledger nothing else holds at another record (envelope_pool).
    void rearm(topic_slot* topic, std::int32_t partition, std::int64_t offset) {
      topic_ = topic;
      partition_ = partition;
      offset_ = offset;
      done_.store(false, std::memory_order_relaxed);
    }

  private:
    void once(outcome how) {
      if (done_.exchange(true))
        return;
      if (auto o = owner_.lock())  // gone: not committed, read again by the next owner
        o->settle({topic_, partition_, offset_, how});
    }
    std::weak_ptr<consumer_state> owner_;
    topic_slot* topic_;  ///< the owner's: valid while it is (checked by the lock above)
    std::int32_t partition_;
    std::int64_t offset_;
    std::atomic<bool> done_{false};
  };

  std::shared_ptr<client> cl_;
  subscription_spec spec_;
  std::shared_ptr<delivery_sink> sink_;
  topic topic_;
  bool unlimited_;
  bool grouped_ = false;
  brook::capabilities caps_;
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::size_t credit_ = 0;
  bool stop_ = false, cancel_seen_ = false, finish_ = false;
  std::vector<std::function<void()>> on_cancel_;
  std::deque<settlement> settlements_;
  std::vector<seek_request> seeks_;
  // The poll thread's own.
  std::deque<topic_slot> topics_;
  detail::envelope_pool pool_;  ///< bounded by the credit: what the core still holds is not reused
  bool paused_ = false, closing_ = false, idle_ = true;
  std::uint32_t since_clock_ = 0;
  std::optional<std::chrono::steady_clock::time_point> no_credit_since_;
  std::chrono::steady_clock::time_point next_commit_{};
  std::atomic<bool> assigned_once_{false};
};

class topic_subscription final : public subscription {
public:
  explicit topic_subscription(std::shared_ptr<consumer_state> st) : st_(std::move(st)) {}
  ~topic_subscription() override { st_->join(); }
  void request(std::size_t n) override { st_->request(n); }
  brook::capabilities capabilities() const noexcept override { return st_->capabilities(); }
  void cancel(std::function<void()> done) override { st_->cancel(std::move(done)); }
  bool reports_ready() const noexcept override { return true; }

private:
  std::shared_ptr<consumer_state> st_;
};

class failed final : public subscription {
public:
  void request(std::size_t) override {}
};

}  // namespace

std::unique_ptr<subscription> failed_subscription(delivery_sink& sink, error_info why) {
  sink.failed(std::move(why));
  return std::make_unique<failed>();
}

std::unique_ptr<subscription> subscribe_topic(const std::shared_ptr<client>& cl,
                                              const subscription_spec& spec,
                                              std::shared_ptr<delivery_sink> sink, bool unlimited) {
  auto st = std::make_shared<consumer_state>(cl, spec, sink, unlimited);
  if (auto err = st->open())
    return failed_subscription(*sink, std::move(err));
  st->start();
  return std::make_unique<topic_subscription>(std::move(st));
}

}  // namespace brook::kafka
