#include "client.hpp"

#include <algorithm>
#include <brook/nats/specs.hpp>

#include "envelope.hpp"

namespace brook::nats {

/// Reached by nats.c's callbacks; `owner` is cleared (under `mtx`) before the
/// connection closes. nats.c may still call back after its close returns (a
/// PubAck's delivery thread), so closed clients' hooks are kept, a few bytes each,
/// in `retired()` for the process's life.
struct client::hooks {
  std::mutex mtx;
  client* owner = nullptr;

  template <class F>
  static void with_owner(void* closure, F&& f) {
    auto* h = static_cast<hooks*>(closure);
    std::lock_guard lock{h->mtx};
    if (h->owner)
      f(*h->owner);
  }
  static void connected(natsConnection*, void* c) {
    with_owner(c, [](client& cl) { cl.event(connection_event::kind::connected, {}); });
  }
  static void reconnected(natsConnection*, void* c) {
    with_owner(c, [](client& cl) { cl.event(connection_event::kind::restored, {}); });
  }
  static void disconnected(natsConnection* nc, void* c) {
    const char* text = nullptr;
    auto s = natsConnection_GetLastError(nc, &text);
    with_owner(c, [&](client& cl) {
      if (s == NATS_STALE_CONNECTION)
        cl.event(connection_event::kind::stalled,
                 {errc::stalled, "nats: the server stopped answering pings (" +
                                     std::to_string(cl.cfg_.ping_interval.count()) +
                                     " ms apart, 2 missed); reconnecting"});
      else
        cl.event(connection_event::kind::lost,
                 {errc::disconnected, std::string{"nats: connection lost"} +
                                          (text && *text ? std::string{" ("} + text + ")" : "") +
                                          "; nats.c reconnects"});
    });
  }
  static void closed(natsConnection*, void*) {}
  static void error(natsConnection*, natsSubscription* sub, natsStatus s, void* c) {
    with_owner(c, [&](client& cl) {
      if (cl.cfg_.on_event)
        cl.cfg_.on_event(status_error(s, sub ? "nats: subscription" : "nats: connection"));
    });
  }
  static void pub_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* c) {
    bool keep = false;
    with_owner(c, [&](client& cl) { keep = cl.on_pub_ack(msg, pa, pae); });
    if (!keep)
      natsMsg_Destroy(msg);
  }
};

namespace {
/// Never destroyed: nats.c's threads may call back while the process exits (a static
/// vector would be freed under them).
std::vector<std::unique_ptr<client::hooks>>& retired() {
  static auto* all = new std::vector<std::unique_ptr<client::hooks>>;
  return *all;
}
std::mutex retired_mtx;
/// Cuts `h` off its client (no callback reaches it from now on) and keeps it for the
/// callbacks nats.c may still make.
void retire(client::hooks* h) {
  {
    std::lock_guard hl{h->mtx};
    h->owner = nullptr;
  }
  std::lock_guard lock{retired_mtx};
  retired().emplace_back(h);
}
}  // namespace

client::client(settings s) : cfg_(std::move(s)) {}

client::~client() {
  close();
}

error_info client::start(link_fn link) {
  link_ = std::move(link);
  natsOptions* o = nullptr;
  if (auto s = natsOptions_Create(&o); s != NATS_OK)
    return status_error(s, "nats: options");
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts{o, natsOptions_Destroy};
  auto* h = new hooks;
  h->owner = this;
  natsStatus s = natsOptions_SetURL(o, cfg_.url.c_str());
  auto step = [&](natsStatus next) {
    if (s == NATS_OK)
      s = next;
  };
  step(natsOptions_SetName(o, cfg_.name.c_str()));
  if (!cfg_.token.empty())
    step(natsOptions_SetToken(o, cfg_.token.c_str()));
  if (!cfg_.tls_ca_file.empty() || cfg_.url.starts_with("tls://")) {
    step(natsOptions_SetSecure(o, true));
    if (!cfg_.tls_ca_file.empty())
      step(natsOptions_LoadCATrustedCertificates(o, cfg_.tls_ca_file.c_str()));
    if (!cfg_.tls_cert_file.empty())
      step(natsOptions_LoadCertificatesChain(o, cfg_.tls_cert_file.c_str(),
                                             cfg_.tls_key_file.c_str()));
  }
  step(natsOptions_SetNoEcho(o, cfg_.no_echo));
  step(natsOptions_SetSendAsap(o, cfg_.send_asap));
  step(natsOptions_SetTimeout(o, cfg_.connect_timeout.count()));
  step(natsOptions_SetMaxReconnect(o, cfg_.max_reconnect));
  step(natsOptions_SetReconnectWait(o, cfg_.reconnect_wait.count()));
  step(natsOptions_SetReconnectBufSize(o, cfg_.reconnect_buffer));
  step(natsOptions_SetPingInterval(o, cfg_.ping_interval.count()));
  step(natsOptions_SetMaxPingsOut(o, 2));
  step(natsOptions_SetDisconnectedCB(o, &hooks::disconnected, h));
  step(natsOptions_SetReconnectedCB(o, &hooks::reconnected, h));
  step(natsOptions_SetClosedCB(o, &hooks::closed, h));
  step(natsOptions_SetErrorHandler(o, &hooks::error, h));
  if (s != NATS_OK) {
    retire(h);
    return status_error(s, "nats: settings for " + url());
  }
  // Once without retrying, so refused credentials or certificates fail the start (waiting
  // cannot fix them); an unreachable server is then left to nats.c to keep trying.
  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, o);
  const bool refused =
      s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED || s == NATS_SSL_ERROR;
  if (s != NATS_OK && !refused) {
    if (nc)
      natsConnection_Destroy(nc);
    nc = nullptr;
    s = natsOptions_SetRetryOnFailedConnect(o, true, &hooks::connected, h);
    if (s == NATS_OK)
      s = natsConnection_Connect(&nc, o);
  }
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    retire(h);  // first: the connection's callbacks must not reach this client
    if (nc)
      natsConnection_Destroy(nc);
    auto err = status_error(s, "nats: connecting to " + url());
    err.code = errc::connection_failed;
    if (refused) {
      err.code = errc::invalid_argument;  // waiting will not help
      err.message += " (check the user, password, token or TLS certificates)";
    }
    return err;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = cfg_.api_timeout.count();
  jo.PublishAsync.MaxPending = cfg_.max_js_publish_pending;
  jo.PublishAsync.AckHandler = &hooks::pub_ack;
  jo.PublishAsync.AckHandlerClosure = h;
  jo.PublishAsync.StallWait = cfg_.api_timeout.count();
  jsCtx* js = nullptr;
  if (auto js_s = natsConnection_JetStream(&js, nc, &jo); js_s != NATS_OK) {
    retire(h);
    natsConnection_Destroy(nc);
    return status_error(js_s, "nats: JetStream context");
  }
  {
    std::unique_lock lock{life_};
    nc_ = nc;
    js_ = js;
    hooks_ = h;
  }
  if (cfg_.flush_when_idle && !cfg_.send_asap)
    flusher_ = std::thread([this] { run_flusher(); });
  if (s == NATS_NOT_YET_CONNECTED)
    return {errc::connection_failed, "nats: " + url() +
                                         " is not reachable yet; nats.c keeps connecting every " +
                                         std::to_string(cfg_.reconnect_wait.count()) + " ms"};
  event(connection_event::kind::connected, {});
  return {};
}

void client::event(connection_event::kind k, error_info why) {
  using kind = connection_event::kind;
  if (k == kind::connected || k == kind::restored) {
    if (ever_connected_.exchange(true) && k == kind::connected)
      k = kind::restored;
    if (cfg_.on_event)
      cfg_.on_event({errc::ok, "nats: connected to " + url()});
    for (auto& l : listeners())
      l->link_back();
  } else {
    if (cfg_.on_event)
      cfg_.on_event(why);
    for (auto& l : listeners())
      l->link_lost(why);
  }
  if (link_)
    link_(k, std::move(why));
}

bool client::connected() const noexcept {
  std::shared_lock lock{life_};
  return nc_ && !closed_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

bool client::with(const std::function<void(natsConnection*, jsCtx*)>& f) const {
  std::shared_lock lock{life_};
  if (!nc_ || closed_)
    return false;
  f(nc_, js_);
  return true;
}

void client::publish(outgoing m, publish_callback done) {
  const auto* target = m.driver.get<jetstream_out>();
  const bool js = target != nullptr;
  natsMsg* msg = nullptr;
  if (auto err = make_message(m, js, msg)) {
    done(err);
    return;
  }
  error_info result;
  bool sent = with([&](natsConnection* nc, jsCtx* ctx) {
    if (!js) {
      if (auto s = natsConnection_PublishMsg(nc, msg); s != NATS_OK)
        result = status_error(s, "nats: publish to '" + m.channel + "'");
      else
        kick();
      return;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = cfg_.api_timeout.count();
    if (!m.message_id.empty())
      po.MsgId = m.message_id.c_str();
    if (!target->stream.empty())
      po.ExpectStream = target->stream.c_str();
    {
      std::lock_guard lock{mtx_};
      acks_.emplace(msg, done);  // the PubAck may arrive before the call returns
    }
    natsMsg* owned = msg;
    if (auto s = js_PublishMsgAsync(ctx, &owned, &po); s != NATS_OK) {
      std::lock_guard lock{mtx_};
      acks_.erase(msg);
      result = status_error(s, "nats: JetStream publish to '" + m.channel + "'");
      return;
    }
    msg = nullptr;  // nats.c owns it; the PubAck handler destroys it
    kick();
  });
  if (msg)
    natsMsg_Destroy(msg);
  if (!sent)
    result = {errc::closed, "nats: the transport is closed (publish to '" + m.channel + "')"};
  if (!js || result)
    done(result);
}

void client::kick() noexcept {
  if (!flusher_.joinable())
    return;
  {
    std::lock_guard lock{flush_mtx_};
    if (dirty_)
      return;  // a flush is due already: this publish goes with it
    dirty_ = true;
  }
  flush_cv_.notify_one();
}

void client::run_flusher() {
  std::unique_lock lock{flush_mtx_};
  while (true) {
    flush_cv_.wait(lock, [&] { return dirty_ || flusher_stop_; });
    if (flusher_stop_)
      return;
    dirty_ = false;
    lock.unlock();
    // Writes the buffer, then waits for the server's PONG: publishes made meanwhile
    // gather in the buffer and go out with the next flush.
    with([&](natsConnection* nc, jsCtx*) {
      if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
        (void)natsConnection_FlushTimeout(nc, 1000);
    });
    lock.lock();
  }
}

bool client::on_pub_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
  publish_callback done;
  {
    std::lock_guard lock{mtx_};
    auto i = acks_.find(msg);
    if (i == acks_.end())
      return false;
    if (!pa && pae && pae->Err == NATS_NO_RESPONDERS && !resender_stop_) {
      auto& n = resent_[msg];
      if (n < 2) {
        ++n;
        resends_.push_back(
            {msg, std::chrono::steady_clock::now() + n * std::chrono::milliseconds{250}});
        if (!resender_.joinable())
          resender_ = std::thread([this] { run_resender(); });
        resend_cv_.notify_one();
        return true;  // kept, with its callback, until it is sent again
      }
    }
    resent_.erase(msg);
    done = std::move(i->second);
    acks_.erase(i);
  }
  if (pa) {
    done({});
    return false;
  }
  std::string subject = natsMsg_GetSubject(msg);
  error_info err{errc::publish_failed, "nats: JetStream publish to '" + subject + "' failed"};
  if (pae) {
    err = status_error(pae->Err, "nats: JetStream publish to '" + subject + "'");
    if (pae->Err == NATS_NO_RESPONDERS)
      err = {errc::not_found, "nats: no stream takes subject '" + subject +
                                  "' (declare a jetstream subscriber with a stream, or create "
                                  "the stream)"};
    else if (pae->ErrText && *pae->ErrText)
      err.message += std::string{" ("} + pae->ErrText + ")";
  }
  done(err);
  return false;
}

void client::run_resender() {
  std::unique_lock lock{mtx_};
  while (!resender_stop_) {
    if (resends_.empty()) {
      resend_cv_.wait(lock);
      continue;
    }
    auto next = std::min_element(resends_.begin(), resends_.end(),
                                 [](const resend& a, const resend& b) { return a.due < b.due; });
    if (const auto due = next->due; std::chrono::steady_clock::now() < due) {
      resend_cv_.wait_until(lock, due);  // a copy: the vector may grow meanwhile
      continue;
    }
    natsMsg* msg = next->msg;
    resends_.erase(next);
    lock.unlock();
    // nats.c takes the message back (its Nats-Msg-Id and expected stream are still on
    // it); while the connection is down it waits in the reconnect buffer.
    natsStatus s = NATS_CONNECTION_CLOSED;
    with([&](natsConnection*, jsCtx* js) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = cfg_.api_timeout.count();
      natsMsg* owned = msg;
      s = js_PublishMsgAsync(js, &owned, &po);
    });
    if (s == NATS_OK) {
      kick();
      lock.lock();
      continue;
    }
    publish_callback done;
    {
      std::lock_guard relock{mtx_};
      if (auto i = acks_.find(msg); i != acks_.end()) {
        done = std::move(i->second);
        acks_.erase(i);
      }
      resent_.erase(msg);
    }
    std::string subject = natsMsg_GetSubject(msg);
    natsMsg_Destroy(msg);
    if (done)
      done(status_error(s, "nats: JetStream publish to '" + subject + "' (sent again)"));
    lock.lock();
  }
}

/// Opens `bucket`, creating it when missing.
natsStatus open_bucket(jsCtx* js, const std::string& bucket, kvStore** kv) {
  auto s = js_KeyValue(kv, js, bucket.c_str());
  if (s != NATS_NOT_FOUND)
    return s;
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket.c_str();
  cfg.History = 10;
  return js_CreateKeyValue(kv, js, &cfg);
}

error_info client::with_kv(const std::string& bucket, const std::function<void(kvStore*)>& f) {
  error_info err;
  bool live = with([&](natsConnection*, jsCtx* js) {
    kvStore* kv = nullptr;
    {
      std::lock_guard lock{kv_mtx_};
      if (auto i = kv_.find(bucket); i != kv_.end())
        kv = i->second;
    }
    if (!kv) {
      kvStore* opened = nullptr;
      if (auto s = open_bucket(js, bucket, &opened); s != NATS_OK) {
        err = status_error(s, "nats: key-value bucket '" + bucket + "'");
        return;
      }
      std::lock_guard lock{kv_mtx_};
      auto [i, fresh] = kv_.emplace(bucket, opened);
      if (!fresh)
        kvStore_Destroy(opened);  // another thread opened it first
      kv = i->second;
    }
    f(kv);
  });
  if (!live)
    return {errc::closed, "nats: the transport is closed (key-value bucket '" + bucket + "')"};
  return err;
}

void client::listen(const std::shared_ptr<link_listener>& l) {
  std::lock_guard lock{mtx_};
  std::erase_if(listeners_, [](auto& w) { return w.expired(); });
  listeners_.push_back(l);
}

void client::forget(const link_listener* l) {
  std::lock_guard lock{mtx_};
  std::erase_if(listeners_, [&](auto& w) {
    auto p = w.lock();
    return !p || p.get() == l;
  });
}

std::vector<std::shared_ptr<link_listener>> client::listeners() {
  std::vector<std::shared_ptr<link_listener>> out;
  std::lock_guard lock{mtx_};
  for (auto& w : listeners_)
    if (auto p = w.lock())
      out.push_back(std::move(p));
  return out;
}

void client::close() {
  {
    std::shared_lock lock{life_};
    if (!nc_ || closed_)
      return;
  }
  {
    std::lock_guard lock{mtx_};
    resender_stop_ = true;
  }
  resend_cv_.notify_one();
  if (resender_.joinable())
    resender_.join();
  if (flusher_.joinable()) {
    {
      std::lock_guard lock{flush_mtx_};
      flusher_stop_ = true;
    }
    flush_cv_.notify_one();
    flusher_.join();
  }
  for (auto& l : listeners())
    l->shutdown();
  {
    std::shared_lock lock{life_};
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 1000;
    (void)js_PublishAsyncComplete(js_, &po);  // what is in flight gets its PubAck first
    // Acks and publishes still in nats.c's buffer go out before the socket closes.
    if (natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED)
      (void)natsConnection_FlushTimeout(nc_, 1000);
  }
  {
    std::unique_lock lock{life_};
    if (closed_)
      return;
    closed_ = true;
    retire(hooks_);  // nothing reaches this object from now on
    {
      std::lock_guard kl{kv_mtx_};
      for (auto& [name, kv] : kv_)
        kvStore_Destroy(kv);
      kv_.clear();
    }
    jsCtx_Destroy(js_);
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
    js_ = nullptr;
    nc_ = nullptr;
    hooks_ = nullptr;
  }
  std::unordered_map<natsMsg*, publish_callback> left;
  {
    std::lock_guard lock{mtx_};
    left.swap(acks_);
    for (auto& r : resends_)
      natsMsg_Destroy(r.msg);  // kept to be sent again: their callbacks fail below
    resends_.clear();
    resent_.clear();
  }
  for (auto& [msg, done] : left)
    done({errc::closed,
          "nats: closed before the JetStream PubAck arrived (the message may "
          "or may not be stored)"});
}

}  // namespace brook::nats
