// Raw hiredis baseline for brook's Redis benchmark: the same workload brook's bench runs, with
// the C client alone. Both cases use a Redis *list*, which brook's bench mirrors with
// list publishes (RPUSH) and a list subscription (BLMPOP LEFT COUNT min(credit, batch)),
// because a list hands each message over exactly once with no acknowledgement round trip, so
// the numbers measure the framework rather than an ack protocol.
//
//   throughput  N small JSON messages (~100 bytes): one thread RPUSHes them pipelined in
//               batches of 1000 on a sync connection; a consumer thread on a libevent loop
//               pops them with BLMPOP ... COUNT 100. Timed from the first push to the last
//               pop; latency = pop time - send time embedded in the message.
//   pingpong    one message in flight: the consumer pops it and pushes the next one at once
//               (FastStream's own benchmark method); latency = one push-to-pop hop.
//
// usage: redis_raw [throughput|pingpong|all]   (default all)
// environment: BROOK_REDIS_URL (redis://127.0.0.1:6390), N (200000), NPING (20000)
// output: one JSON line per case, e.g.
//   {"bench":"throughput","broker":"redis","impl":"raw","msgs":200000,"seconds":..,...}
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace {

using bench::now_ns;

struct target {
  std::string host = "127.0.0.1";
  int port = 6390;
};

// Only host and port: the baseline needs no credentials or database selection.
target parse_target() {
  target t;
  const char* env = std::getenv("BROOK_REDIS_URL");
  std::string url = env && *env ? env : "redis://127.0.0.1:6390";
  auto rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  rest = rest.substr(rest.rfind('@') == std::string::npos ? 0 : rest.rfind('@') + 1);
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  t.host = rest.substr(0, colon);
  if (colon != std::string::npos)
    t.port = std::atoi(rest.c_str() + colon + 1);
  return t;
}

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
}

// A small JSON message that carries its send time, padded to about 100 bytes.
std::string make_message(long seq) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, R"({"seq":%ld,"sent_ns":%lld,"pad":")", seq, now_ns());
  std::string s(buf, static_cast<std::size_t>(n));
  s.append(std::max<std::size_t>(1, 96 - s.size()), 'x');
  s += "\"}";
  return s;
}

long long sent_ns_of(std::string_view msg) {
  auto at = msg.find("\"sent_ns\":");
  return at == std::string_view::npos ? 0 : std::atoll(msg.data() + at + 10);
}

redisContext* sync_connect(const target& t) {
  auto* c = redisConnect(t.host.c_str(), t.port);
  if (!c || c->err) {
    std::fprintf(stderr, "redis_raw: cannot connect to %s:%d: %s\n", t.host.c_str(), t.port,
                 c ? c->errstr : "out of memory");
    std::exit(1);
  }
  return c;
}

void sync_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (!r) {
    std::fprintf(stderr, "redis_raw: %s failed: %s\n", argv[0].c_str(), c->errstr);
    std::exit(1);
  }
  freeReplyObject(r);
}

// The consumer side of both cases: an async connection on its own libevent loop.
struct consumer {
  event_base* base = event_base_new();
  redisAsyncContext* pop_ctx = nullptr;
  redisAsyncContext* push_ctx = nullptr;  // pingpong only: re-publishes on receipt
  std::string key;
  long expected = 0;
  long got = 0;
  long warmup = 0;
  long long measured_from_ns = 0;  // when the warm-up ended
  long long finished_ns = 0;
  int batch = 100;
  std::vector<double> lat_us;

  consumer(const target& t, std::string k, long n, bool with_push)
      : key(std::move(k)), expected(n) {
    pop_ctx = connect(t);
    if (with_push)
      push_ctx = connect(t);
    lat_us.reserve(static_cast<std::size_t>(n));
  }
  ~consumer() {
    redisAsyncFree(pop_ctx);
    if (push_ctx)
      redisAsyncFree(push_ctx);
    event_base_free(base);
  }
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  redisAsyncContext* connect(const target& t) {
    auto* c = redisAsyncConnect(t.host.c_str(), t.port);
    if (!c || c->err) {
      std::fprintf(stderr, "redis_raw: async connect failed\n");
      std::exit(1);
    }
    redisLibeventAttach(c, base);
    return c;
  }

  void record(std::string_view msg) {
    auto now = now_ns();
    if (got == warmup)
      measured_from_ns = now;
    if (got >= warmup)
      lat_us.push_back(static_cast<double>(now - sent_ns_of(msg)) / 1000.0);
    if (++got == expected) {
      finished_ns = now;
      event_base_loopbreak(base);
    }
  }

  // BLMPOP: up to `batch` elements per round trip, waiting only when the list is empty.
  void pop() {
    redisAsyncCommand(pop_ctx, &consumer::on_pop, this, "BLMPOP 1 1 %b LEFT COUNT %d", key.data(),
                      key.size(), batch);
  }
  static void on_pop(redisAsyncContext*, void* reply, void* self_ptr) {
    auto* self = static_cast<consumer*>(self_ptr);
    auto* r = static_cast<redisReply*>(reply);
    if (!r)
      return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
      auto* items = r->element[1];
      for (std::size_t i = 0; i < items->elements; ++i)
        self->record({items->element[i]->str, items->element[i]->len});
      // pingpong: the next message goes out the moment this one arrived.
      if (self->push_ctx && self->got < self->expected)
        self->send_next();
    } else if (r->type == REDIS_REPLY_ERROR) {
      std::fprintf(stderr, "redis_raw: BLMPOP failed: %s (needs Redis >= 7)\n", r->str);
      std::exit(1);
    }
    if (self->got < self->expected)
      self->pop();
  }
  void send_next() {
    auto msg = make_message(got);
    redisAsyncCommand(push_ctx, nullptr, nullptr, "RPUSH %b %b", key.data(), key.size(), msg.data(),
                      msg.size());
  }
};

void throughput(const target& t, long n) {
  auto key = "brook-bench:raw:throughput";
  auto* admin = sync_connect(t);
  sync_command(admin, {"DEL", key});
  consumer c{t, key, n, false};
  c.pop();
  std::thread loop([&] { event_base_dispatch(c.base); });
  // Let the consumer block first, so the clock starts with both sides ready.
  std::this_thread::sleep_for(std::chrono::milliseconds{100});

  auto* prod = sync_connect(t);
  constexpr long window = 1000;
  auto start = now_ns();
  for (long i = 0; i < n; i += window) {
    auto m = std::min(window, n - i);
    for (long j = 0; j < m; ++j) {
      auto msg = make_message(i + j);
      redisAppendCommand(prod, "RPUSH %b %b", key, std::strlen(key), msg.data(), msg.size());
    }
    for (long j = 0; j < m; ++j) {
      void* r = nullptr;
      if (redisGetReply(prod, &r) != REDIS_OK) {
        std::fprintf(stderr, "redis_raw: RPUSH failed: %s\n", prod->errstr);
        std::exit(1);
      }
      freeReplyObject(r);
    }
  }
  loop.join();
  bench::report("throughput", "redis", "raw", static_cast<std::size_t>(n),
                static_cast<double>(c.finished_ns - start) / 1e9, c.lat_us);
  sync_command(admin, {"DEL", key});
  redisFree(prod);
  redisFree(admin);
}

void pingpong(const target& t, long n) {
  auto key = "brook-bench:raw:pingpong";
  auto* admin = sync_connect(t);
  sync_command(admin, {"DEL", key});
  constexpr long warmup = 1000;
  consumer c{t, key, n + warmup, true};
  c.warmup = warmup;
  c.batch = 1;
  c.pop();
  c.send_next();
  event_base_dispatch(c.base);
  bench::report("pingpong", "redis", "raw", static_cast<std::size_t>(n),
                static_cast<double>(c.finished_ns - c.measured_from_ns) / 1e9, c.lat_us);
  sync_command(admin, {"DEL", key});
  redisFree(admin);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which != "all" && which != "throughput" && which != "pingpong") {
    std::fprintf(stderr, "usage: redis_raw [throughput|pingpong|all]\n");
    return 2;
  }
  auto t = parse_target();
  if (which != "pingpong")
    throughput(t, std::max(100000L, env_long("N", 200000)));
  if (which != "throughput")
    pingpong(t, env_long("NPING", 20000));
  return 0;
}
