// The test broker's NATS. The in-memory transport routes subjects (wildcards), queue
// groups and JetStream acks as the typed specs say; this adds the key-value buckets
// behind `key_value` and the `kv_watch` subscriptions, as on the server: each bucket
// numbers its writes (revisions), a delete is a marker that watchers see, and a watch
// starts with the bucket's current values (every write with `history`), then follows
// the writes of matching keys, taking the next only while the subscriber has credit.
#include "emulation.hpp"

#include <algorithm>
#include <brook/detail/forwarding_transport.hpp>
#include <brook/memory/transport.hpp>
#include <brook/nats/specs.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace brook::nats {

namespace {

struct entry {
  std::string key, value;
  const char* op = "put";  ///< put, delete
  std::uint64_t revision = 0;
  std::int64_t created_ms = 0;
};

struct bucket {
  std::deque<entry> log;  ///< every write, in revision order (a deque: entries never move)
};

struct watcher {
  std::string bucket, keys;
  kv_watch spec;
  std::shared_ptr<delivery_sink> sink;
  std::deque<const entry*> waiting;  ///< matched, not yet delivered (the log owns them)
  std::size_t credit = 0;
  bool active = true;

  bool wants(const entry& e) const {
    return memory::matches(keys, e.key) &&
           !(spec.ignore_deletes && e.op != std::string_view{"put"});
  }
};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class emulation final : public detail::forwarding_transport,
                        public kv_backend,
                        public std::enable_shared_from_this<emulation> {
public:
  explicit emulation(std::shared_ptr<brook::transport> memory)
      : forwarding_transport(std::move(memory)) {}

  transport& underlying() noexcept override { return *this; }

  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override;

  error_info kv_put(const std::string& bucket, const std::string& key, std::string_view value,
                    std::uint64_t* revision) override {
    if (auto err = check_key(bucket, key))
      return err;
    auto rev = write(bucket, key, value, "put");
    if (revision)
      *revision = rev;
    return {};
  }
  std::optional<std::string> kv_get(const std::string& bucket, const std::string& key,
                                    error_info& error) override {
    error = check_key(bucket, key);
    std::lock_guard lock{mtx_};
    auto b = buckets_.find(bucket);
    if (error || b == buckets_.end())
      return std::nullopt;
    for (auto e = b->second.log.rbegin(); e != b->second.log.rend(); ++e)
      if (e->key == key)
        return e->op == std::string_view{"put"} ? std::optional<std::string>{e->value}
                                                : std::nullopt;
    return std::nullopt;
  }
  error_info kv_erase(const std::string& bucket, const std::string& key) override {
    if (auto err = check_key(bucket, key))
      return err;
    write(bucket, key, {}, "delete");
    return {};
  }

  /// Takes `w` off the list: no delivery reaches it after this returns.
  void forget(const watcher* w) {
    std::lock_guard lock{mtx_};
    std::erase_if(watchers_, [&](const std::shared_ptr<watcher>& x) { return x.get() == w; });
  }
  void request(watcher& w, std::size_t n) {
    std::lock_guard lock{mtx_};
    w.credit += n;
    pump(w);
  }
  void stop(watcher& w) {
    std::lock_guard lock{mtx_};
    w.active = false;
  }

private:
  /// What the server refuses, refused here too (a key is tokens of [-/_=.a-zA-Z0-9]).
  static error_info check_key(const std::string& bucket, const std::string& key) {
    auto bad = key.empty() || key.front() == '.' || key.back() == '.' ||
               key.find("..") != std::string::npos ||
               std::any_of(key.begin(), key.end(), [](char c) {
                 return !(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '/' ||
                          c == '_' || c == '=' || c == '.');
               });
    if (bad)
      return {errc::invalid_argument, "nats: '" + key + "' is not a valid key in bucket '" +
                                          bucket +
                                          "' (tokens of letters, digits and -/_= "
                                          "separated by '.')"};
    return {};
  }

  std::uint64_t write(const std::string& name, const std::string& key, std::string_view value,
                      const char* op) {
    std::lock_guard lock{mtx_};
    auto& b = buckets_[name];
    b.log.push_back({key, std::string{value}, op, b.log.size() + 1, now_ms()});
    const entry* e = &b.log.back();
    for (auto& w : watchers_)
      if (w->bucket == name && w->wants(*e)) {
        w->waiting.push_back(e);
        pump(*w);
      }
    return e->revision;
  }

  /// Hands what `w` waits for while it has credit (mtx_ held).
  void pump(watcher& w) {
    while (w.active && w.credit > 0 && !w.waiting.empty()) {
      const entry& e = *w.waiting.front();
      w.waiting.pop_front();
      --w.credit;
      auto env = std::make_shared<envelope>();
      env->channel = e.key;
      env->body = e.value;
      env->metadata.emplace("kind", "kv");
      env->metadata.emplace("bucket", w.bucket);
      env->metadata.emplace("revision", std::to_string(e.revision));
      env->metadata.emplace("operation", e.op);
      env->delivery.offset = static_cast<std::int64_t>(e.revision);
      env->delivery.timestamp_ms = e.created_ms;
      env->delivery.broker_id = w.bucket + ":" + e.key + "@" + std::to_string(e.revision);
      env->correlation_id = env->message_id = env->delivery.broker_id;
      w.sink->deliver(std::move(env));
    }
  }

  std::mutex mtx_;
  std::map<std::string, bucket, std::less<>> buckets_;
  std::vector<std::shared_ptr<watcher>> watchers_;

  friend class watch_subscription;
  void add(const std::shared_ptr<watcher>& w) {
    std::lock_guard lock{mtx_};
    auto& b = buckets_[w->bucket];  // made when missing, as the driver does
    // The current values: each matching key's last write (every write with history),
    // in revision order.
    std::map<std::string_view, const entry*> last;
    for (auto& e : b.log)
      if (memory::matches(w->keys, e.key)) {
        if (w->spec.history) {
          if (w->wants(e))
            w->waiting.push_back(&e);
        } else {
          last[e.key] = &e;
        }
      }
    if (!w->spec.history) {
      std::vector<const entry*> current;
      for (auto& [k, e] : last)
        if (w->wants(*e))
          current.push_back(e);
      std::sort(current.begin(), current.end(),
                [](const entry* a, const entry* c) { return a->revision < c->revision; });
      w->waiting.assign(current.begin(), current.end());
    }
    watchers_.push_back(w);
  }
};

class watch_subscription final : public subscription {
public:
  watch_subscription(std::shared_ptr<emulation> em, std::shared_ptr<watcher> w)
      : em_(std::move(em)), w_(std::move(w)) {
    em_->add(w_);
  }
  ~watch_subscription() override { em_->forget(w_.get()); }
  void request(std::size_t n) override { em_->request(*w_, n); }
  void cancel(std::function<void()> done) override {
    em_->stop(*w_);  // deliveries happen under the emulation's lock: none can follow
    if (done)
      done();
  }

private:
  std::shared_ptr<emulation> em_;
  std::shared_ptr<watcher> w_;
};

std::unique_ptr<subscription> emulation::subscribe(const subscription_spec& spec,
                                                   std::shared_ptr<delivery_sink> sink) {
  const auto* k = spec.driver.get<kv_watch>();
  if (!k)
    return forwarding_transport::subscribe(spec, std::move(sink));
  auto w = std::make_shared<watcher>();
  w->bucket = k->bucket;
  w->keys = spec.address.empty() ? ">" : spec.address;
  w->spec = *k;
  w->sink = std::move(sink);
  return std::make_unique<watch_subscription>(shared_from_this(), std::move(w));
}

}  // namespace

std::shared_ptr<brook::transport> make_emulation(std::shared_ptr<brook::transport> memory) {
  return std::make_shared<emulation>(std::move(memory));
}

}  // namespace brook::nats
