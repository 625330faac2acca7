#include "client.hpp"

#include <algorithm>
#include <brook/kafka/specs.hpp>

#include "envelope.hpp"

namespace brook::kafka {

namespace {

using namespace std::chrono_literals;

void dr_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<client*>(opaque)->on_delivery(*m);
}

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<client*>(opaque)->on_error(err, reason);
}

/// librdkafka's own log lines: warnings and worse to the broker's log, the rest dropped.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  if (level > 4)
    return;
  auto* c = static_cast<client*>(rd_kafka_opaque(rk));
  if (c && c->cfg().on_event)
    c->cfg().on_event({errc::ok, std::string{"kafka: "} + fac + ": " + buf});
}

std::string bootstrap_of(std::string b) {
  for (std::string_view scheme : {"kafka://", "PLAINTEXT://"})
    if (b.starts_with(scheme))
      b.erase(0, scheme.size());
  return b;
}

}  // namespace

client::client(settings s) : cfg_(std::move(s)) {}

client::~client() {
  close();
}

rd_kafka_conf_t* client::make_conf(bool producer, const std::map<std::string, std::string>& extra,
                                   std::string& err) const {
  std::map<std::string, std::string> kv{
      {"bootstrap.servers", bootstrap_of(cfg_.bootstrap)},
      {"client.id", cfg_.client_id},
      {"log.connection.close", "false"},
      // Back within a second of the broker's return (librdkafka's default backs off to 10 s).
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  if (producer) {
    kv["enable.idempotence"] = cfg_.idempotent ? "true" : "false";
    kv["acks"] = "all";
    kv["linger.ms"] = "1";
    kv["queue.buffering.max.messages"] = "1000000";
  } else {
    kv["enable.auto.commit"] = "false";
    kv["enable.auto.offset.store"] = "false";
    kv["allow.auto.create.topics"] = "true";
    kv["enable.partition.eof"] = "false";
    kv["fetch.wait.max.ms"] = "100";
    kv["topic.metadata.refresh.interval.ms"] = "5000";
  }
  for (auto& [k, v] : cfg_.config)
    kv[k] = v;
  for (auto& [k, v] : producer ? cfg_.producer_config : cfg_.consumer_config)
    kv[k] = v;
  for (auto& [k, v] : extra)
    kv[k] = v;
  auto* conf = rd_kafka_conf_new();
  char text[512];
  for (auto& [k, v] : kv) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), text, sizeof text) != RD_KAFKA_CONF_OK) {
      // The value may be a secret: name the setting only.
      err = "kafka: setting '" + k + "' refused: " + text;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set_opaque(conf, const_cast<client*>(this));
  rd_kafka_conf_set_log_cb(conf, log_cb);
  return conf;
}

error_info client::start(link_fn link) {
  link_ = std::move(link);
  std::string err;
  auto* conf = make_conf(true, {}, err);
  if (!conf)
    return {errc::invalid_argument, err};
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  char text[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, text, sizeof text);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    return {errc::invalid_argument, std::string{"kafka: producer: "} + text};
  }
  // The poll thread first: it serves the error callback that says why a probe fails.
  poller_ = std::thread([this] { run(); });
  bool up = probe(cfg_.connect_timeout);
  if (!up && auth_failed_) {
    // Refused credentials do not get better by retrying: fail the start (no secret in the text).
    std::lock_guard lock{mtx_};
    return {errc::invalid_argument,
            "kafka: " + bootstrap_of(cfg_.bootstrap) + " refused the credentials: " + auth_error_};
  }
  if (!up)
    return {errc::connection_failed,
            "kafka: no answer from " + bootstrap_of(cfg_.bootstrap) + " yet; retrying"};
  return {};
}

bool client::probe(std::chrono::milliseconds wait) {
  const rd_kafka_metadata_t* md = nullptr;
  auto e = rd_kafka_metadata(rk_, 0, nullptr, &md, static_cast<int>(wait.count()));
  if (md)
    rd_kafka_metadata_destroy(md);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    set_up(true, {});
    return true;
  }
  return false;
}

void client::set_up(bool up, error_info why) {
  if (up_.exchange(up) == up)
    return;
  if (up) {
    bool first = !ever_up_.exchange(true);
    if (link_)
      link_(first ? connection_event::kind::connected : connection_event::kind::restored, {});
    if (!first)
      for (auto& l : listeners())
        l->link_back();
  } else {
    if (link_)
      link_(connection_event::kind::lost, why);
    for (auto& l : listeners())
      l->link_lost(why);
  }
}

void client::run() {
  auto next_probe = std::chrono::steady_clock::now() + cfg_.connect_timeout;  // start() probes
  while (!stop_) {
    rd_kafka_poll(rk_, 50);
    std::deque<held> retry;
    {
      std::lock_guard lock{mtx_};
      retry.swap(held_);
    }
    while (!retry.empty()) {
      auto& h = retry.front();
      if (produce(h.msg, h.done) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        break;  // still full: the rest keeps its order
      retry.pop_front();
    }
    if (!retry.empty()) {
      std::lock_guard lock{mtx_};
      for (auto i = retry.rbegin(); i != retry.rend(); ++i)
        held_.push_front(std::move(*i));
    }
    // While down, ask the cluster once a second whether it is back.
    if (!up_ && std::chrono::steady_clock::now() >= next_probe) {
      probe(500ms);
      next_probe = std::chrono::steady_clock::now() + 1s;
    }
  }
}

rd_kafka_resp_err_t client::produce(outgoing& m, publish_callback& done) {
  const auto* t = m.driver.get<topic_out>();
  auto* hdrs = make_headers(m);
  auto* cb = new publish_callback(std::move(done));
  const bool tombstone = t && t->tombstone;
  const std::string& key = t ? t->key : std::string{};
  // rd_kafka_produceva: the producev macros are C casts.
  rd_kafka_vu_t vu[8];
  std::size_t n = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vu[n++].u.cstr = m.channel.c_str();
  vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[n].u.mem.ptr = tombstone ? nullptr : m.body.data();
  vu[n++].u.mem.size = tombstone ? 0 : m.body.size();
  if (!key.empty()) {
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = const_cast<char*>(key.data());
    vu[n++].u.mem.size = key.size();
  }
  vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vu[n++].u.i32 = t ? t->partition : RD_KAFKA_PARTITION_UA;
  if (t && t->timestamp_ms > 0) {
    vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vu[n++].u.i64 = t->timestamp_ms;
  }
  vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vu[n++].u.headers = hdrs;
  vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu[n++].u.ptr = cb;
  auto err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (auto* e = rd_kafka_produceva(rk_, vu, n)) {
    err = rd_kafka_error_code(e);
    rd_kafka_error_destroy(e);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    return err;  // the headers and the callback are librdkafka's now
  rd_kafka_headers_destroy(hdrs);
  done = std::move(*cb);
  delete cb;
  if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    done(kafka_error(err, "kafka: produce to '" + m.channel + "'"));
    done = nullptr;
  }
  return err;
}

void client::publish(outgoing m, publish_callback done) {
  {
    std::lock_guard lock{mtx_};
    if (closed_ || !rk_) {
      done({errc::closed, "kafka: the transport is closed"});
      return;
    }
    // Behind what waits for queue space: keep the order.
    if (!held_.empty()) {
      held_.push_back({std::move(m), std::move(done)});
      return;
    }
  }
  std::shared_lock life{life_};
  if (!rk_) {
    done({errc::closed, "kafka: the transport is closed"});
    return;
  }
  if (produce(m, done) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    // librdkafka's queue is full: backpressure, not an error; the poll thread retries.
    std::lock_guard lock{mtx_};
    held_.push_back({std::move(m), std::move(done)});
  }
}

void client::on_delivery(const rd_kafka_message_t& m) {
  auto* cb = static_cast<publish_callback*>(m._private);
  if (!cb)
    return;
  if (m.err)
    (*cb)(
        kafka_error(m.err, std::string{"kafka: delivery to '"} + rd_kafka_topic_name(m.rkt) + "'"));
  else
    (*cb)({});
  delete cb;
}

void client::on_error(int err, const char* reason) {
  auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (e == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    std::lock_guard lock{mtx_};
    auth_error_ = reason;
    auth_failed_ = true;
  }
  if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    set_up(false, kafka_error(e, std::string{"kafka: "} + reason));
    return;
  }
  if (cfg_.on_event)
    cfg_.on_event(kafka_error(e, std::string{"kafka: "} + reason));
  if (rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR && link_)
    link_(connection_event::kind::fatal, kafka_error(e, std::string{"kafka: fatal: "} + reason));
}

error_info client::create_topic(const std::string& name, int partitions,
                                std::chrono::milliseconds wait) {
  if (!rk_)
    return {errc::closed, "kafka: not started"};
  char text[256];
  auto* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, -1, text, sizeof text);
  if (!nt)
    return {errc::invalid_argument, "kafka: topic '" + name + "': " + text};
  auto* q = rd_kafka_queue_new(rk_);
  auto* opts = rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(wait.count()), nullptr, 0);
  rd_kafka_CreateTopics(rk_, &nt, 1, opts, q);
  error_info out{errc::timeout, "kafka: creating topic '" + name + "' timed out"};
  if (auto* ev = rd_kafka_queue_poll(q, static_cast<int>(wait.count()) + 1000)) {
    out = {};
    if (auto e = rd_kafka_event_error(ev)) {
      out = kafka_error(e, "kafka: creating topic '" + name + "'");
    } else if (auto* res = rd_kafka_event_CreateTopics_result(ev)) {
      size_t n = 0;
      auto** topics = rd_kafka_CreateTopics_result_topics(res, &n);
      for (size_t i = 0; i < n; ++i) {
        auto te = rd_kafka_topic_result_error(topics[i]);
        if (te != RD_KAFKA_RESP_ERR_NO_ERROR && te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
          out = kafka_error(te, "kafka: creating topic '" + name + "'");
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  return out;
}

void client::listen(const std::shared_ptr<link_listener>& l) {
  std::lock_guard lock{mtx_};
  listeners_.push_back(l);
}

void client::forget(const link_listener* l) {
  std::lock_guard lock{mtx_};
  std::erase_if(listeners_, [&](auto& w) {
    auto s = w.lock();
    return !s || s.get() == l;
  });
}

std::size_t client::seek(const seek_request& r) {
  std::size_t n = 0;
  for (auto& l : listeners())
    n += l->seek(r) ? 1 : 0;
  return n;
}

std::vector<std::shared_ptr<link_listener>> client::listeners() {
  std::lock_guard lock{mtx_};
  std::vector<std::shared_ptr<link_listener>> out;
  for (auto& w : listeners_)
    if (auto s = w.lock())
      out.push_back(std::move(s));
  return out;
}

void client::close() {
  std::deque<held> left;
  {
    std::lock_guard lock{mtx_};
    if (closed_)
      return;
    closed_ = true;
  }
  stop_ = true;
  if (poller_.joinable())
    poller_.join();
  {
    std::lock_guard lock{mtx_};
    left.swap(held_);
  }
  for (auto& h : left)
    h.done({errc::closed, "kafka: the transport closed before '" + h.msg.channel +
                              "' had room in the producer's queue"});
  std::unique_lock life{life_};
  if (rk_) {
    // What is queued gets its chance (bounded); the rest completes with an error.
    rd_kafka_flush(rk_, 5000);
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 0);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }
}

}  // namespace brook::kafka
