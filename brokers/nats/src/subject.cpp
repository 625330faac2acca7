// Core NATS subscriptions. nats.c calls `on_msg` on the subscription's own
// delivery thread; the message is handed to the core while there is credit and
// buffered (bounded, overflow counted) while there is none: core NATS cannot pause.
#include <brook/nats/specs.hpp>
#include <deque>
#include <vector>

#include "envelope.hpp"
#include "subscriptions.hpp"

namespace brook::nats {

namespace {

class subject_state final : public link_listener,
                            public std::enable_shared_from_this<subject_state> {
public:
  subject_state(std::shared_ptr<client> cl, subscription_spec spec,
                std::shared_ptr<delivery_sink> sink, bool unlimited)
      : cl_(std::move(cl)), spec_(std::move(spec)), sink_(std::move(sink)), unlimited_(unlimited) {}

  error_info open() {
    error_info err;
    self_ = shared_from_this();  // until nats.c says the subscription is complete
    bool live = cl_->with([&](natsConnection* nc, jsCtx*) {
      natsStatus s = spec_.group.empty()
                         ? natsConnection_Subscribe(&sub_, nc, spec_.address.c_str(), &on_msg, this)
                         : natsConnection_QueueSubscribe(&sub_, nc, spec_.address.c_str(),
                                                         spec_.group.c_str(), &on_msg, this);
      if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(sub_, &on_complete, this);
      if (s != NATS_OK)
        err = status_error(s, "nats: subscribing to '" + spec_.address + "'");
    });
    if (!live)
      err = {errc::closed,
             "nats: the transport is closed (subscribing to '" + spec_.address + "')"};
    if (err) {
      if (sub_)
        natsSubscription_Destroy(sub_);
      sub_ = nullptr;
      self_.reset();
      return err;
    }
    cl_->listen(shared_from_this());
    if (cl_->connected()) {
      // A PING after the SUB: once its PONG is back the server has the subscription, so a
      // message published from now on reaches it, from any connection (readiness says so).
      cl_->with([](natsConnection* nc, jsCtx*) { (void)natsConnection_FlushTimeout(nc, 1000); });
      sink_->subscribed();
    }
    return {};
  }

  ~subject_state() override {
    if (sub_)
      natsSubscription_Destroy(sub_);
  }

  void request(std::size_t n) {
    std::unique_lock lock{mtx_};
    credit_ += n;
    pump(lock);
  }

  void cancel(std::function<void()> done) {
    std::unique_lock lock{mtx_};
    if (done)
      on_done_.push_back(std::move(done));
    if (completed_) {
      finish(lock);
      return;
    }
    const bool first = !cancelled_;
    cancelled_ = true;
    pump(lock);  // what is buffered goes to the core: NATS cannot take it back
    lock.unlock();
    if (first) {
      cl_->forget(this);
      // A drain, not an unsubscribe: what nats.c already took for us still reaches the
      // core (it cannot go back), then the subscription completes.
      if (!cl_->with([&](natsConnection*, jsCtx*) {
            if (natsSubscription_Drain(sub_) != NATS_OK)
              natsSubscription_Unsubscribe(sub_);
          }))
        on_complete(this);  // the connection is gone: nothing more can arrive
    }
  }

  std::size_t dropped() const {
    std::lock_guard lock{mtx_};
    std::int64_t lib = 0;
    if (sub_ && !completed_)
      natsSubscription_GetDropped(sub_, &lib);
    return overflow_ + static_cast<std::size_t>(std::max<std::int64_t>(lib, lib_dropped_));
  }

  void link_lost(const error_info& why) override {
    sink_->gap({why.code, "nats: what was published to '" + spec_.address +
                              "' while the connection was down is not seen (" + why.message + ")"});
    sink_->interrupted(why);
  }
  void link_back() override { sink_->subscribed(); }  // nats.c re-sends the SUB itself
  void shutdown() override {}                         // the connection's close completes us

private:
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* self = static_cast<subject_state*>(closure);
    if (natsMsg_IsNoResponders(m)) {
      // The server's status to a reply subject: a request went where nobody listens.
      natsMsg_Destroy(m);
      return;
    }
    auto env = std::make_shared<envelope>();
    to_envelope(m, false, *env);
    env->metadata.emplace("kind", "subject");
    env->delivery.broker_id = env->channel;
    natsMsg_Destroy(m);
    self->push(std::move(env));
  }

  static void on_complete(void* closure) {
    auto* self = static_cast<subject_state*>(closure);
    std::unique_lock lock{self->mtx_};
    if (self->completed_)
      return;
    self->completed_ = true;
    std::int64_t lib = 0;
    if (self->sub_ && natsSubscription_GetDropped(self->sub_, &lib) == NATS_OK)
      self->lib_dropped_ = lib;
    self->cancelled_ = true;
    self->pump(lock);
    self->finish(lock);
  }

  /// Runs the cancel callbacks and lets go of the self-reference (the last use of `this`).
  void finish(std::unique_lock<std::mutex>& lock) {
    auto done = std::move(on_done_);
    on_done_.clear();
    auto keep = std::move(self_);
    lock.unlock();
    for (auto& f : done)
      f();
  }

  void push(envelope_ptr env) {
    std::unique_lock lock{mtx_};
    if (!unlimited_ && !cancelled_ && credit_ == 0 && buffer_.size() >= cl_->cfg().subject_buffer) {
      if (overflow_++ == 0 || overflow_ % 10'000 == 0)
        if (auto& f = cl_->cfg().on_event)
          f({errc::overflow, "nats: subject '" + spec_.address + "' buffer full (" +
                                 std::to_string(cl_->cfg().subject_buffer) +
                                 " messages beyond the credit); " + std::to_string(overflow_) +
                                 " dropped so far"});
      return;
    }
    buffer_.push_back(std::move(env));
    pump(lock);
  }

  /// Hands buffered messages to the core in order, one thread at a time.
  void pump(std::unique_lock<std::mutex>& lock) {
    if (delivering_)
      return;
    delivering_ = true;
    while (!buffer_.empty() && (credit_ > 0 || cancelled_ || unlimited_)) {
      auto env = std::move(buffer_.front());
      buffer_.pop_front();
      if (credit_ > 0)
        --credit_;
      lock.unlock();
      sink_->deliver(std::move(env));
      lock.lock();
    }
    delivering_ = false;
  }

  std::shared_ptr<client> cl_;
  subscription_spec spec_;
  std::shared_ptr<delivery_sink> sink_;
  const bool unlimited_;
  natsSubscription* sub_ = nullptr;
  mutable std::mutex mtx_;
  std::size_t credit_ = 0;
  std::deque<envelope_ptr> buffer_;
  std::size_t overflow_ = 0;
  std::int64_t lib_dropped_ = 0;
  bool delivering_ = false, cancelled_ = false, completed_ = false;
  std::vector<std::function<void()>> on_done_;
  std::shared_ptr<subject_state> self_;
};

class subject_subscription final : public subscription {
public:
  explicit subject_subscription(std::shared_ptr<subject_state> st) : st_(std::move(st)) {}
  ~subject_subscription() override { st_->cancel(nullptr); }
  void request(std::size_t n) override { st_->request(n); }
  brook::capabilities capabilities() const noexcept override { return {.pausable = false}; }
  void cancel(std::function<void()> done) override { st_->cancel(std::move(done)); }
  bool reports_ready() const noexcept override { return true; }
  std::size_t dropped() const noexcept override { return st_->dropped(); }

private:
  std::shared_ptr<subject_state> st_;
};

/// A subscription that failed at once (already reported to its sink): delivers nothing.
class failed final : public subscription {
public:
  void request(std::size_t) override {}
};

}  // namespace

std::unique_ptr<subscription> failed_subscription(delivery_sink& sink, error_info why) {
  sink.failed(std::move(why));
  return std::make_unique<failed>();
}

std::unique_ptr<subscription> subscribe_subject(const std::shared_ptr<client>& cl,
                                                const subscription_spec& spec,
                                                std::shared_ptr<delivery_sink> sink,
                                                bool unlimited) {
  auto st = std::make_shared<subject_state>(cl, spec, sink, unlimited);
  if (auto err = st->open())
    return failed_subscription(*sink, std::move(err));
  return std::make_unique<subject_subscription>(std::move(st));
}

bool covers(std::string_view p, std::string_view f) {
  auto split = [](std::string_view s) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0;;) {
      auto dot = s.find('.', i);
      out.push_back(s.substr(i, dot == std::string_view::npos ? dot : dot - i));
      if (dot == std::string_view::npos)
        return out;
      i = dot + 1;
    }
  };
  auto pt = split(p), ft = split(f);
  for (std::size_t i = 0; i < pt.size(); ++i) {
    if (pt[i] == ">")
      return i < ft.size();
    if (i >= ft.size() || ft[i] == ">")
      return false;
    if (pt[i] != "*" && pt[i] != ft[i])
      return false;
  }
  return pt.size() == ft.size();
}

}  // namespace brook::nats
