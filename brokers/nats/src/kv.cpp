// Key-value: the watch subscription (one thread per watch, taking the next entry
// only while there is credit) and the put/get/erase handle.
#include <brook/broker.hpp>
#include <brook/nats/key_value.hpp>
#include <brook/nats/specs.hpp>

#include "emulation.hpp"
#include "envelope.hpp"
#include "subscriptions.hpp"
#include "worker.hpp"

namespace brook::nats {

namespace {

using namespace std::chrono_literals;

const char* op_name(kvOperation op) {
  switch (op) {
    case kvOp_Put: return "put";
    case kvOp_Delete: return "delete";
    case kvOp_Purge: return "purge";
    default: return "unknown";
  }
}

class kv_state final : public pull_worker, public std::enable_shared_from_this<kv_state> {
public:
  kv_state(std::shared_ptr<client> cl, subscription_spec spec, std::shared_ptr<delivery_sink> sink)
      : pull_worker(std::move(cl)),
        spec_(std::move(spec)),
        sink_(std::move(sink)),
        watch_(*spec_.driver.get<kv_watch>()) {
    if (spec_.address.empty())
      spec_.address = ">";
  }

  void start() {
    cl_->listen(shared_from_this());
    launch([this] { run(); });
  }

  void link_lost(const error_info& why) override { sink_->interrupted(why); }
  void link_back() override {}  // the watch resumes (or is made again) in the thread

private:
  void run() {
    auto backoff = 100ms;
    std::string last_error;
    kvStore* kv = nullptr;
    kvWatcher* w = nullptr;
    auto release = [&] {
      if (w)
        kvWatcher_Destroy(w);
      if (kv)
        kvStore_Destroy(kv);
      w = nullptr;
      kv = nullptr;
    };
    while (!stopping()) {
      if (!w) {
        auto err = open(kv, w);
        if (err) {
          release();
          if (err.message != last_error && cl_->cfg().on_event)
            cl_->cfg().on_event(err);
          last_error = err.message;
          wait_for(backoff);
          backoff = next_backoff(backoff);
          continue;
        }
        backoff = 100ms;
        last_error.clear();
        sink_->subscribed();
      }
      if (wait_credit(1) == 0)
        break;
      kvEntry* e = nullptr;
      auto s = kvWatcher_Next(&e, w, cl_->cfg().fetch_wait.count());
      if (s == NATS_TIMEOUT)
        continue;
      if (s != NATS_OK) {
        release();  // made again: entries up to `last_` are not delivered twice
        wait_for(backoff);
        backoff = next_backoff(backoff);
        continue;
      }
      if (!e)
        continue;  // the end of the initial values
      deliver(e);
      kvEntry_Destroy(e);
    }
    release();
  }

  error_info open(kvStore*& kv, kvWatcher*& w) {
    error_info err;
    bool live = cl_->with([&](natsConnection*, jsCtx* js) {
      if (auto s = open_bucket(js, watch_.bucket, &kv); s != NATS_OK) {
        err = status_error(s, "nats: key-value bucket '" + watch_.bucket + "'");
        return;
      }
      kvWatchOptions o;
      kvWatchOptions_Init(&o);
      o.IncludeHistory = watch_.history;
      o.IgnoreDeletes = watch_.ignore_deletes;
      if (auto s = kvStore_Watch(&w, kv, spec_.address.c_str(), &o); s != NATS_OK)
        err = status_error(
            s, "nats: watching '" + spec_.address + "' in bucket '" + watch_.bucket + "'");
    });
    if (!live)
      return {errc::closed, "nats: the transport is closed"};
    return err;
  }

  void deliver(kvEntry* e) {
    auto rev = kvEntry_Revision(e);
    if (rev <= last_)
      return;  // seen before the watch was made again
    last_ = rev;
    auto env = std::make_shared<envelope>();
    env->channel = kvEntry_Key(e);
    if (auto* v = static_cast<const char*>(kvEntry_Value(e)))
      env->body.assign(v, static_cast<std::size_t>(kvEntry_ValueLen(e)));
    const char* op = op_name(kvEntry_Operation(e));
    env->metadata.emplace("kind", "kv");
    env->metadata.emplace("bucket", watch_.bucket);
    env->metadata.emplace("revision", std::to_string(rev));
    env->metadata.emplace("operation", op);
    env->delivery.offset = static_cast<std::int64_t>(rev);
    env->delivery.timestamp_ms = kvEntry_Created(e) / 1'000'000;
    env->delivery.broker_id = watch_.bucket + ":" + env->channel + "@" + std::to_string(rev);
    env->correlation_id = env->message_id = env->delivery.broker_id;
    took_one();
    sink_->deliver(std::move(env));
  }

  subscription_spec spec_;
  std::shared_ptr<delivery_sink> sink_;
  kv_watch watch_;
  std::uint64_t last_ = 0;  ///< the worker thread's: the last revision delivered
};

class kv_subscription final : public subscription {
public:
  explicit kv_subscription(std::shared_ptr<kv_state> st) : st_(std::move(st)) {}
  ~kv_subscription() override { st_->join(); }
  void request(std::size_t n) override { st_->request(n); }
  void cancel(std::function<void()> done) override { st_->cancel(std::move(done)); }
  bool reports_ready() const noexcept override { return true; }

private:
  std::shared_ptr<kv_state> st_;
};

}  // namespace

std::unique_ptr<subscription> subscribe_kv(const std::shared_ptr<client>& cl,
                                           const subscription_spec& spec,
                                           std::shared_ptr<delivery_sink> sink) {
  auto st = std::make_shared<kv_state>(cl, spec, std::move(sink));
  st->start();
  return std::make_unique<kv_subscription>(std::move(st));
}

namespace {

class client_kv final : public kv_backend {
public:
  explicit client_kv(std::shared_ptr<client> cl) : cl_(std::move(cl)) {}

  error_info kv_put(const std::string& bucket, const std::string& key, std::string_view value,
                    std::uint64_t* revision) override {
    error_info err;
    auto outer = cl_->with_kv(bucket, [&](kvStore* kv) {
      std::uint64_t rev = 0;
      if (auto s = kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
          s != NATS_OK)
        err = status_error(s, "nats: put '" + key + "' in bucket '" + bucket + "'");
      else if (revision)
        *revision = rev;
    });
    return outer ? outer : err;
  }

  std::optional<std::string> kv_get(const std::string& bucket, const std::string& key,
                                    error_info& error) override {
    std::optional<std::string> out;
    error_info err;
    auto outer = cl_->with_kv(bucket, [&](kvStore* kv) {
      kvEntry* e = nullptr;
      auto s = kvStore_Get(&e, kv, key.c_str());
      if (s == NATS_OK && e) {
        if (kvEntry_Operation(e) == kvOp_Put) {
          auto* v = static_cast<const char*>(kvEntry_Value(e));
          out.emplace(v ? v : "", static_cast<std::size_t>(kvEntry_ValueLen(e)));
        }
        kvEntry_Destroy(e);
      } else if (s != NATS_NOT_FOUND) {
        err = status_error(s, "nats: get '" + key + "' from bucket '" + bucket + "'");
      }
    });
    error = outer ? outer : err;
    return out;
  }

  error_info kv_erase(const std::string& bucket, const std::string& key) override {
    error_info err;
    auto outer = cl_->with_kv(bucket, [&](kvStore* kv) {
      if (auto s = kvStore_Delete(kv, key.c_str()); s != NATS_OK)
        err = status_error(s, "nats: delete '" + key + "' from bucket '" + bucket + "'");
    });
    return outer ? outer : err;
  }

private:
  std::shared_ptr<client> cl_;
};

/// The backend of `b`'s transport now, with the transport held for the call.
struct backend_ref {
  std::shared_ptr<brook::transport> t;
  kv_backend* kv = nullptr;
};
backend_ref backend_of(const brook::broker& b) {
  backend_ref r{b.get_transport()};
  r.kv = r.t ? kv_of(*r.t) : nullptr;
  return r;
}
error_info no_backend(const std::string& bucket) {
  return {errc::unsupported, "nats: key-value bucket '" + bucket +
                                 "': the broker's transport is neither NATS nor the test broker"};
}

}  // namespace

std::unique_ptr<kv_backend> make_client_kv(std::shared_ptr<client> cl) {
  return std::make_unique<client_kv>(std::move(cl));
}

key_value::key_value(const brook::broker& b, std::string bucket)
    : broker_(&b), bucket_(std::move(bucket)) {}

error_info key_value::put(std::string_view key, std::string_view value, std::uint64_t* revision) {
  auto r = backend_of(*broker_);
  return r.kv ? r.kv->kv_put(bucket_, std::string{key}, value, revision) : no_backend(bucket_);
}

std::optional<std::string> key_value::get(std::string_view key, error_info* error) {
  auto r = backend_of(*broker_);
  error_info err = r.kv ? error_info{} : no_backend(bucket_);
  std::optional<std::string> out;
  if (r.kv)
    out = r.kv->kv_get(bucket_, std::string{key}, err);
  if (error)
    *error = err;
  return out;
}

error_info key_value::erase(std::string_view key) {
  auto r = backend_of(*broker_);
  return r.kv ? r.kv->kv_erase(bucket_, std::string{key}) : no_backend(bucket_);
}

}  // namespace brook::nats
