// JetStream subscriptions. One thread per subscription takes at most the
// subscriber's credit and hands it to the core: a pull consumer fetches (at most
// `batch` per request), a push or ordered consumer takes the next message the
// server pushed into nats.c's buffer. Each acked delivery carries an
// acknowledger over the message's ack subject. Setting up (the stream, the
// durable consumer, the subscription) is part of the loop: while the server is
// away it is retried with backoff.
#include <brook/nats/specs.hpp>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "envelope.hpp"
#include "subscriptions.hpp"
#include "worker.hpp"

namespace brook::nats {

namespace {

using namespace std::chrono_literals;

std::int64_t ns(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

error_info js_error(natsStatus s, jsErrCode je, std::string where) {
  auto err = status_error(s, where);
  if (je != 0)
    err.message += " (JetStream error " + std::to_string(static_cast<int>(je)) + ")";
  return err;
}

/// The pull subscriptions a JetStream subscription made: nats.c acks through a
/// message's subscription, so they live until the subscription and every message
/// it delivered are gone (and hold nothing else: no cycle through the sink).
struct sub_keeper {
  std::mutex mtx;
  std::vector<natsSubscription*> subs;
  ~sub_keeper() {
    for (auto* s : subs)
      natsSubscription_Destroy(s);
  }
};

/// A declaration's consumer: its `durable`; else, in a group, one per group and
/// subject (`<group>-<subject>`, so the group's members compete); else none
/// (an ephemeral consumer of this subscription's own).
std::string durable_name(const jetstream& j, const subscription_spec& spec) {
  if (!j.durable.empty())
    return j.durable;
  if (spec.group.empty())
    return {};
  std::string name = spec.group + "-" + spec.address;
  for (auto& c : name)
    if (c == '.' || c == '*' || c == '>' || c == ' ')
      c = '_';
  return name;
}

/// Settles one JetStream delivery by publishing to its ack subject (JetStream's
/// protocol: `+ACK`, `-NAK`, `-NAK {"delay":ns}`, `+TERM`, `+WPI`) over the
/// connection while it exists; keeps the subscription it came through alive.
class js_ack final : public acknowledger {
public:
  js_ack(natsMsg* m, std::shared_ptr<client> cl, std::shared_ptr<sub_keeper> keeper)
      : m_(m), cl_(std::move(cl)), owner_(std::move(keeper)) {}
  ~js_ack() override { natsMsg_Destroy(m_); }
  void ack() override { settle("+ACK"); }
  void nack() override { settle("-NAK"); }
  void nack_after(std::chrono::milliseconds d) override {
    settle("-NAK {\"delay\":" + std::to_string(ns(d)) + "}");
  }
  void reject() override { settle("+TERM"); }
  void in_progress() override { send("+WPI"); }

private:
  void settle(const std::string& body) {
    if (!settled_.exchange(true))
      send(body);  // a lost settlement is redelivered after ack_wait (at least once)
  }
  void send(const std::string& body) {
    const char* reply = natsMsg_GetReply(m_);
    if (reply == nullptr || *reply == '\0')
      return;
    cl_->with([&](natsConnection* nc, jsCtx*) {
      (void)natsConnection_PublishString(nc, reply, body.c_str());
    });
  }
  natsMsg* m_;
  std::shared_ptr<client> cl_;
  std::shared_ptr<sub_keeper> owner_;
  std::atomic<bool> settled_{false};
};

/// A status message JetStream sends to a pull request's inbox (no body, a
/// `Status` header): its code (a copy: it outlives the message), or empty for a
/// message of the stream.
std::string status_of(natsMsg* m) {
  const char* v = nullptr;
  if (natsMsg_GetDataLength(m) > 0 || natsMsgHeader_Get(m, "Status", &v) != NATS_OK || !v)
    return {};
  return std::string{std::string_view{v}.substr(0, 3)};
}

class js_state final : public pull_worker, public std::enable_shared_from_this<js_state> {
public:
  js_state(std::shared_ptr<client> cl, subscription_spec spec, std::shared_ptr<delivery_sink> sink)
      : pull_worker(std::move(cl)), spec_(std::move(spec)), sink_(std::move(sink)) {
    if (auto* j = spec_.driver.get<jetstream>())
      js_ = *j;
    durable_ = durable_name(js_, spec_);
    batch_ = js_.batch ? js_.batch : cl_->cfg().fetch_batch;
  }

  void start() {
    cl_->listen(shared_from_this());
    // While connected, the stream, consumer and pull subscription are made here, a few
    // round trips, so a publish right after `subscribe` finds the stream; otherwise (and
    // on failure) the fetch thread keeps trying.
    if (cl_->connected() && !setup())
      sink_->subscribed();
    launch([this] { run(); });
  }

  void link_lost(const error_info& why) override { sink_->interrupted(why); }
  void link_back() override {
    std::lock_guard lock{mtx_};
    if (sub_)
      sink_->subscribed();  // the consumer is on the server: nothing was missed
  }

private:
  void run() {
    auto backoff = 100ms;
    std::string last_error;
    while (!stopping()) {
      if (!sub_) {
        if (auto err = setup()) {
          if (err.message != last_error && cl_->cfg().on_event)
            cl_->cfg().on_event(err);
          last_error = err.message;
          if (!is_retryable(err.code) && err.code != errc::not_found &&
              err.code != errc::publish_failed) {
            sink_->failed(err);
            break;
          }
          wait_for(backoff);
          backoff = next_backoff(backoff);
          continue;
        }
        backoff = 100ms;
        last_error.clear();
        sink_->subscribed();
      }
      auto want = wait_credit(batch_);
      if (want == 0)
        break;
      if (js_.mode != consumer_mode::pull) {
        if (!next_pushed())
          wait_for(backoff);
        continue;
      }
      switch (pull(want)) {
        case pulled::more: break;
        case pulled::gone: {
          // Deleted on the server (or lost with a server that keeps no state): make it again.
          std::lock_guard lock{mtx_};
          sub_ = nullptr;
          break;
        }
        case pulled::failed:
          wait_for(backoff);  // disconnected: nats.c reconnects, the next request resumes
          backoff = next_backoff(backoff);
          break;
      }
    }
    hand_back_pushed();
    hand_back_pulled();
  }

  /// Takes the next pushed message, if one comes within the fetch wait; false on an
  /// error that is worth a pause.
  bool next_pushed() {
    natsMsg* m = nullptr;
    auto s = natsSubscription_NextMsg(&m, sub_, cl_->cfg().fetch_wait.count());
    if (s == NATS_OK) {
      deliver_one(m);
      return true;
    }
    if (s == NATS_TIMEOUT)
      return true;
    if (s == NATS_SLOW_CONSUMER) {
      // nats.c's buffer overflowed: the server redelivers what was unacked (an
      // ordered consumer is made again from where it was).
      if (cl_->cfg().on_event)
        cl_->cfg().on_event({errc::overflow, "nats: JetStream push subscription on '" +
                                                 spec_.address +
                                                 "' overflowed nats.c's "
                                                 "buffer; the server redelivers"});
      return true;
    }
    if (s == NATS_INVALID_SUBSCRIPTION || s == NATS_CONNECTION_CLOSED) {
      std::lock_guard lock{mtx_};
      sub_ = nullptr;  // made again by the loop
    }
    return false;
  }

  /// A push consumer's messages that the credit never took go back to the stream at
  /// once: first the interest goes (a drain: the server pushes nothing more here,
  /// so it redelivers a NAKed message to another member), then each is NAKed.
  void hand_back_pushed() {
    if (js_.mode != consumer_mode::push || !sub_)
      return;
    if (natsSubscription_Drain(sub_) != NATS_OK)
      return;  // closed already: the server redelivers after ack_wait
    natsMsg* m = nullptr;
    while (natsSubscription_NextMsg(&m, sub_, 1) == NATS_OK) {
      js_ack{m, cl_, keeper_}.nack();  // destroys m
      m = nullptr;
    }
  }

  enum class pulled { more, gone, failed };

  /// One pull request for `want` messages, taken until they came, the server ended
  /// the request (a status message) or it expired. It is sent and read here rather
  /// than through natsSubscription_Fetch: nats.c 3.4.1's fetch writes past its
  /// array when messages of an earlier request are still buffered (fixed upstream
  /// in 3.10), which happens whenever a fetch times out as the server sends.
  pulled pull(std::size_t want) {
    const auto wait = cl_->cfg().fetch_wait;
    const auto expires = wait > 20ms ? wait - 10ms : wait;  // ends on the server first
    const auto body =
        "{\"batch\":" + std::to_string(want) + ",\"expires\":" + std::to_string(ns(expires)) + "}";
    natsStatus s = NATS_CONNECTION_CLOSED;
    cl_->with([&](natsConnection* nc, jsCtx*) {
      s = natsConnection_PublishRequestString(nc, next_subject_.c_str(), inbox_.c_str(),
                                              body.c_str());
    });
    if (s != NATS_OK)
      return pulled::failed;
    // A request whose end was lost (the server went away) is given up after a grace.
    const auto deadline = std::chrono::steady_clock::now() + wait + 1s;
    for (std::size_t got = 0; got < want;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0)
        return pulled::more;
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, fetch_sub_, left);
      if (s == NATS_TIMEOUT || s == NATS_SLOW_CONSUMER)
        return pulled::more;  // (the buffer holds at most the credit: not expected)
      if (s == NATS_NO_RESPONDERS || s == NATS_INVALID_SUBSCRIPTION || s == NATS_CONNECTION_CLOSED)
        return pulled::gone;  // no consumer listens on its next-message subject
      if (s != NATS_OK)
        return pulled::failed;
      const auto status = status_of(m);
      if (status.empty()) {
        deliver_one(m);
        ++got;
        continue;
      }
      if (status == "100") {  // a heartbeat
        natsMsg_Destroy(m);
        continue;
      }
      const char* desc = nullptr;
      (void)natsMsgHeader_Get(m, "Description", &desc);
      const std::string why = desc ? desc : "";
      natsMsg_Destroy(m);
      if (status == "404" || status == "408")
        return pulled::more;  // no messages / expired: the request is over
      if (why.find("Consumer Deleted") != std::string::npos ||
          why.find("push based") != std::string::npos)
        return pulled::gone;
      if (status == "409" && why.find("Leadership") == std::string::npos &&
          why.find("Shutdown") == std::string::npos && cl_->cfg().on_event)
        cl_->cfg().on_event({errc::invalid_argument,
                             "nats: pull request on consumer '" + consumer_ + "' of stream '" +
                                 js_.stream + "' refused: " + std::string{status} + " " + why});
      return pulled::failed;
    }
    return pulled::more;
  }

  /// What a pull subscription's inbox still holds when it stops goes back to the
  /// stream at once.
  void hand_back_pulled() {
    if (js_.mode != consumer_mode::pull || !fetch_sub_)
      return;
    natsMsg* m = nullptr;
    while (natsSubscription_NextMsg(&m, fetch_sub_, 1) == NATS_OK) {
      if (status_of(m).empty())
        js_ack{m, cl_, keeper_}.nack();  // destroys m
      else
        natsMsg_Destroy(m);
      m = nullptr;
    }
  }

  void deliver_one(natsMsg* m) {
    const bool acked = js_.mode != consumer_mode::ordered;
    {
      if (stopping()) {
        if (acked)
          js_ack{m, cl_, keeper_}.nack();  // taken during a drain: straight back to the stream
        else
          natsMsg_Destroy(m);
        return;
      }
      auto env = std::make_shared<envelope>();
      to_envelope(m, true, *env);
      env->metadata.emplace("kind", "jetstream");
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        env->delivery.attempt = static_cast<std::uint32_t>(meta->NumDelivered);
        env->delivery.redelivered = meta->NumDelivered > 1;
        env->delivery.offset = static_cast<std::int64_t>(meta->Sequence.Stream);
        env->delivery.timestamp_ms = meta->Timestamp / 1'000'000;
        env->delivery.broker_id =
            std::string{meta->Stream} + ":" + std::to_string(meta->Sequence.Stream);
        env->metadata.emplace("stream", meta->Stream);
        env->metadata.emplace("consumer", meta->Consumer);
        env->metadata.emplace("sequence", std::to_string(meta->Sequence.Stream));
        jsMsgMetaData_Destroy(meta);
      }
      if (acked)
        env->ack = std::make_shared<js_ack>(m, cl_, keeper_);
      else
        natsMsg_Destroy(m);
      took_one();
      sink_->deliver(std::move(env));
    }
  }

  error_info setup() {
    error_info err;
    natsSubscription* sub = nullptr;
    bool live = cl_->with([&](natsConnection* nc, jsCtx* js) {
      err = ensure_stream(js);
      if (js_.mode == consumer_mode::pull) {
        if (!err && !durable_.empty())
          err = ensure_consumer(js);
        if (!err)
          err = pull_subscribe(js, sub);
        if (!err)
          err = pull_inbox(nc, sub);
        return;
      }
      if (!err && !durable_.empty() && js_.mode == consumer_mode::push)
        err = ensure_push_consumer(js);
      if (!err)
        err = push_subscribe(js, sub);
    });
    if (!live)
      return {errc::closed, "nats: the transport is closed"};
    if (err)
      return err;
    {
      std::lock_guard lock{keeper_->mtx};
      keeper_->subs.push_back(sub);  // destroyed last: pending acks go through it
    }
    std::lock_guard lock{mtx_};
    sub_ = sub;
    return {};
  }

  /// The stream as this subscriber needs it: made, or with its subject merged in
  /// (FastStream's merge). A stream's subject list has no compare-and-set: two writers at
  /// once each write the list they read, so the later drops the other's subject, and
  /// nats-server 2.9 updated by two at once may take a subject twice (storing each
  /// message twice). So declarations in this process go one at a time, and after a merge
  /// (or a create that another made first) the stream is looked at again, a little later,
  /// until it has the subject without one.
  error_info ensure_stream(jsCtx* js) {
    static std::mutex declaring;
    std::lock_guard lock{declaring};
    declared d = declared::again;
    for (int round = 1; round <= 5 && d == declared::again; ++round) {
      error_info err;
      d = declare_stream(js, err);
      if (err)
        return err;
      if (d == declared::again)
        std::this_thread::sleep_for(round * 20ms);  // an update read before ours lands
    }
    return {};
  }

  enum class declared { done, again };

  declared declare_stream(jsCtx* js, error_info& err) {
    const auto& stream = js_.stream;
    const auto& filter = spec_.address;
    jsStreamInfo* si = nullptr;
    jsErrCode je = static_cast<jsErrCode>(0);
    auto s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &je);
    if (s == NATS_OK) {
      auto& cfg = *si->Config;
      bool covered = false;
      for (int i = 0; i < cfg.SubjectsLen && !covered; ++i)
        covered = covers(cfg.Subjects[i], filter);
      if (!covered) {
        // FastStream's merge: the stream takes this subject too.
        std::vector<const char*> subjects(cfg.Subjects, cfg.Subjects + cfg.SubjectsLen);
        subjects.push_back(filter.c_str());
        auto* old = cfg.Subjects;
        auto old_len = cfg.SubjectsLen;
        cfg.Subjects = subjects.data();
        cfg.SubjectsLen = static_cast<int>(subjects.size());
        jsStreamInfo* updated = nullptr;
        s = js_UpdateStream(&updated, js, &cfg, nullptr, &je);
        cfg.Subjects = old;
        cfg.SubjectsLen = old_len;
        if (updated)
          jsStreamInfo_Destroy(updated);
        if (s != NATS_OK)
          err = js_error(s, je, "nats: adding subject '" + filter + "' to stream '" + stream + "'");
      }
      jsStreamInfo_Destroy(si);
      return covered ? declared::done : declared::again;
    }
    if (je != JSStreamNotFoundErr && s != NATS_NOT_FOUND) {
      err = js_error(s, je, "nats: looking up stream '" + stream + "'");
      return declared::done;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    const char* subjects[] = {filter.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    s = js_AddStream(&si, js, &cfg, nullptr, &je);
    if (si)
      jsStreamInfo_Destroy(si);
    if (s == NATS_OK)
      return declared::done;
    if (je == JSStreamNameExistErr)
      return declared::again;  // made by another meanwhile, maybe without this subject
    err = js_error(s, je, "nats: creating stream '" + stream + "' for '" + filter + "'");
    if (je == JSStreamSubjectOverlapErr)
      err.message += ": another stream already takes this subject; name that stream";
    err.code = errc::invalid_argument;
    return declared::done;
  }

  void consumer_config(jsConsumerConfig& cc) const {
    jsConsumerConfig_Init(&cc);
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ns(js_.ack_wait);
    if (js_.max_deliver > 0)
      cc.MaxDeliver = js_.max_deliver;
    cc.MaxAckPending = js_.max_ack_pending;
    cc.FilterSubject = spec_.address.c_str();
    cc.DeliverPolicy = js_.deliver == deliver_policy::new_only ? js_DeliverNew
                       : js_.deliver == deliver_policy::last   ? js_DeliverLast
                                                               : js_DeliverAll;
  }

  error_info ensure_consumer(jsCtx* js) {
    jsConsumerConfig cc;
    consumer_config(cc);
    cc.Durable = durable_.c_str();
    jsConsumerInfo* ci = nullptr;
    jsErrCode je = static_cast<jsErrCode>(0);
    auto s = js_AddConsumer(&ci, js, js_.stream.c_str(), &cc, nullptr, &je);
    if (ci)
      jsConsumerInfo_Destroy(ci);
    ci = nullptr;
    if (s == NATS_OK)
      return {};
    // It exists with other settings: take this subscriber's where the server allows it.
    s = js_UpdateConsumer(&ci, js, js_.stream.c_str(), &cc, nullptr, &je);
    if (ci)
      jsConsumerInfo_Destroy(ci);
    if (s == NATS_OK)
      return {};
    auto err = js_error(s, je, "nats: consumer '" + durable_ + "' on stream '" + js_.stream + "'");
    if (s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED || s == NATS_NOT_YET_CONNECTED)
      return err;
    if (cl_->cfg().on_event)
      cl_->cfg().on_event(
          {errc::invalid_argument, err.message + "; using the consumer as the server has it"});
    return {};
  }

  /// A durable push consumer: as the server has it (its deliver subject is what
  /// the group's members share), or made with a fresh one and this group.
  error_info ensure_push_consumer(jsCtx* js) {
    const auto where = "nats: push consumer '" + durable_ + "' on stream '" + js_.stream + "'";
    jsConsumerInfo* ci = nullptr;
    jsErrCode je = static_cast<jsErrCode>(0);
    auto s = js_GetConsumerInfo(&ci, js, js_.stream.c_str(), durable_.c_str(), nullptr, &je);
    if (s == NATS_OK) {
      const bool pull = ci->Config == nullptr || ci->Config->DeliverSubject == nullptr ||
                        *ci->Config->DeliverSubject == '\0';
      jsConsumerInfo_Destroy(ci);
      if (pull)
        return {errc::invalid_argument,
                where +
                    " exists as a pull consumer; give the push subscriber a durable of its "
                    "own (.durable = \"...\")"};
      return {};
    }
    if (je != JSConsumerNotFoundErr && s != NATS_NOT_FOUND)
      return js_error(s, je, where);
    jsConsumerConfig cc;
    consumer_config(cc);
    cc.Durable = durable_.c_str();
    natsInbox* inbox = nullptr;
    if (natsInbox_Create(&inbox) != NATS_OK)
      return {errc::publish_failed, where + ": no inbox for its deliver subject"};
    cc.DeliverSubject = inbox;
    if (!spec_.group.empty())
      cc.DeliverGroup = spec_.group.c_str();
    s = js_AddConsumer(&ci, js, js_.stream.c_str(), &cc, nullptr, &je);
    natsInbox_Destroy(inbox);
    if (ci)
      jsConsumerInfo_Destroy(ci);
    if (s == NATS_OK)
      return {};
    auto err = js_error(s, je, where);
    err.code = errc::not_found;  // another member made it meanwhile: look again
    return err;
  }

  /// A push or ordered subscription: bound to the durable, or with a consumer of its own.
  error_info push_subscribe(jsCtx* js, natsSubscription*& sub) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = js_.stream.c_str();
    so.ManualAck = true;
    if (js_.mode == consumer_mode::ordered) {
      so.Ordered = true;
      so.Config.DeliverPolicy = js_.deliver == deliver_policy::new_only ? js_DeliverNew
                                : js_.deliver == deliver_policy::last   ? js_DeliverLast
                                                                        : js_DeliverAll;
    } else if (!durable_.empty()) {
      so.Consumer = durable_.c_str();
      if (!spec_.group.empty())
        so.Queue = spec_.group.c_str();
    } else {
      consumer_config(so.Config);
    }
    jsErrCode je = static_cast<jsErrCode>(0);
    auto s = js_SubscribeSync(&sub, js, spec_.address.c_str(), nullptr, &so, &je);
    if (s != NATS_OK)
      return js_error(
          s, je,
          "nats: " + std::string{js_.mode == consumer_mode::ordered ? "ordered" : "push"} +
              " subscription on '" + spec_.address + "' (stream '" + js_.stream + "')");
    return {};
  }

  error_info pull_subscribe(jsCtx* js, natsSubscription*& sub) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = js_.stream.c_str();
    if (!durable_.empty())
      so.Consumer = durable_.c_str();  // bind: the consumer outlives this subscription
    else
      consumer_config(so.Config);
    jsErrCode je = static_cast<jsErrCode>(0);
    auto s = js_PullSubscribe(&sub, js, spec_.address.c_str(),
                              durable_.empty() ? nullptr : durable_.c_str(), nullptr, &so, &je);
    if (s != NATS_OK)
      return js_error(
          s, je,
          "nats: pull subscription on '" + spec_.address + "' (stream '" + js_.stream + "')");
    return {};
  }

  /// The inbox a pull subscription's requests are answered on, and its consumer's
  /// next-message subject.
  error_info pull_inbox(natsConnection* nc, natsSubscription* pull) {
    const auto where =
        "nats: pull subscription on '" + spec_.address + "' (stream '" + js_.stream + "')";
    consumer_ = durable_;
    if (consumer_.empty()) {  // made by nats.c with the subscription: the server named it
      jsConsumerInfo* ci = nullptr;
      jsErrCode je = static_cast<jsErrCode>(0);
      auto s = natsSubscription_GetConsumerInfo(&ci, pull, nullptr, &je);
      if (s != NATS_OK)
        return js_error(s, je, where + ": its consumer");
      consumer_ = ci->Name ? ci->Name : "";
      jsConsumerInfo_Destroy(ci);
    }
    next_subject_ = "$JS.API.CONSUMER.MSG.NEXT." + js_.stream + "." + consumer_;
    natsInbox* inbox = nullptr;
    if (natsInbox_Create(&inbox) != NATS_OK)
      return {errc::publish_failed, where + ": no inbox for its requests"};
    inbox_ = inbox;
    natsInbox_Destroy(inbox);
    natsSubscription* fs = nullptr;
    auto s = natsConnection_SubscribeSync(&fs, nc, inbox_.c_str());
    if (s != NATS_OK)
      return status_error(s, where + ": subscribing to its inbox");
    std::lock_guard lock{keeper_->mtx};
    keeper_->subs.push_back(fs);
    if (fetch_sub_)
      (void)natsSubscription_Unsubscribe(fetch_sub_);  // a consumer made again: the old inbox goes
    fetch_sub_ = fs;
    return {};
  }

  subscription_spec spec_;
  std::shared_ptr<delivery_sink> sink_;
  jetstream js_;
  std::string durable_;
  std::size_t batch_ = 100;
  natsSubscription* sub_ = nullptr;        ///< the fetch thread's
  natsSubscription* fetch_sub_ = nullptr;  ///< a pull subscription's inbox (the fetch thread's)
  std::string inbox_, next_subject_, consumer_;
  std::shared_ptr<sub_keeper> keeper_ = std::make_shared<sub_keeper>();  ///< every one made
};

class js_subscription final : public subscription {
public:
  explicit js_subscription(std::shared_ptr<js_state> st, brook::capabilities caps)
      : st_(std::move(st)), caps_(caps) {}
  ~js_subscription() override { st_->join(); }
  void request(std::size_t n) override { st_->request(n); }
  brook::capabilities capabilities() const noexcept override { return caps_; }
  void cancel(std::function<void()> done) override { st_->cancel(std::move(done)); }
  bool reports_ready() const noexcept override { return true; }

private:
  std::shared_ptr<js_state> st_;
  brook::capabilities caps_;
};

}  // namespace

std::unique_ptr<subscription> subscribe_jetstream(const std::shared_ptr<client>& cl,
                                                  const subscription_spec& spec,
                                                  std::shared_ptr<delivery_sink> sink) {
  auto caps = spec.driver.get<jetstream>()->capabilities();
  auto st = std::make_shared<js_state>(cl, spec, std::move(sink));
  st->start();
  return std::make_unique<js_subscription>(std::move(st), caps);
}

}  // namespace brook::nats
