// Raw nats.c baseline for brook's NATS benchmark: the same workloads brook's bench runs
// (bench/nats_bench.cpp), with the C client alone.
//   throughput     N small JSON messages on a core subject, at most 1000 published and not
//                  yet received (a window both sides use, since core NATS cannot pause);
//                  an async subscription consumes them. Latency = receive - send time.
//   pingpong       one message in flight on a core subject: the subscriber publishes the
//                  next one at once (FastStream's method). SendAsap on (brook's default is
//                  settings::flush_when_idle; ASAP=1 on nats_bench matches this).
//   js_throughput  N messages published to JetStream (async, PubAck window 1000) while a
//                  pull consumer fetches batches of 100 and acks each message.
// usage: nats_raw [throughput|pingpong|js_throughput|all]
// environment: BROOK_NATS_URL (nats://127.0.0.1:4232), N (200000), NPING (20000), NJS (50000),
//              HEADERS=1 (ping-pong with FastStream's headers, impl "raw_headers")
#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace {

using bench::env_or;
using bench::now_ns;

std::string url() {
  auto* u = std::getenv("BROOK_NATS_URL");
  return u ? u : "nats://127.0.0.1:4232";
}

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) {
    std::fprintf(stderr, "nats_raw: %s: %s\n", what, natsStatus_GetText(s));
    std::exit(1);
  }
}

natsConnection* connect() {
  natsOptions* o = nullptr;
  check(natsOptions_Create(&o), "options");
  check(natsOptions_SetURL(o, url().c_str()), "url");
  check(natsOptions_SetSendAsap(o, true), "send asap");
  natsConnection* nc = nullptr;
  check(natsConnection_Connect(&nc, o), "connect");
  natsOptions_Destroy(o);
  return nc;
}

// The same ~100-byte JSON as brook's `tick`.
std::string body(long seq, const char* kind) {
  return "{\"seq\":" + std::to_string(seq) + ",\"sent_ns\":" + std::to_string(now_ns()) +
         ",\"source\":\"bench\",\"kind\":\"" + kind + "\"}";
}
long long sent_of(natsMsg* m) {
  std::string_view b{natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))};
  auto at = b.find("\"sent_ns\":");
  return std::atoll(b.data() + at + 10);
}

/// HEADERS=1: each message carries the headers FastStream (and brook) write, a 32-character
/// correlation id, the content type and a message id, which the receiver reads back.
bool with_headers() {
  static const bool b = std::getenv("HEADERS") != nullptr;
  return b;
}

natsStatus send(natsConnection* nc, const char* subject, const std::string& b) {
  if (!with_headers())
    return natsConnection_Publish(nc, subject, b.data(), static_cast<int>(b.size()));
  natsMsg* m = nullptr;
  auto s = natsMsg_Create(&m, subject, nullptr, b.data(), static_cast<int>(b.size()));
  if (s != NATS_OK)
    return s;
  natsMsgHeader_Set(m, "correlation_id", "0123456789abcdef0123456789abcdef");
  natsMsgHeader_Set(m, "content-type", "application/json");
  natsMsgHeader_Set(m, "message_id", "0123456789abcdef0123456789abcdef");
  s = natsConnection_PublishMsg(nc, m);
  natsMsg_Destroy(m);
  return s;
}

/// Reads back what `send` wrote (as a consumer would).
void read_headers(natsMsg* m) {
  if (!with_headers())
    return;
  const char* v = nullptr;
  natsMsgHeader_Get(m, "correlation_id", &v);
  natsMsgHeader_Get(m, "content-type", &v);
  natsMsgHeader_Get(m, "message_id", &v);
}

const char* impl_name() {
  return with_headers() ? "raw_headers" : "raw";
}

struct state {
  std::vector<double> lat;
  std::atomic<long> got{0};
  long n = 0;
  natsConnection* nc = nullptr;
  const char* subject = "";
};

void throughput(long n) {
  auto* nc = connect();
  state st;
  st.n = n;
  st.lat.reserve(static_cast<std::size_t>(n));
  natsSubscription* sub = nullptr;
  check(natsConnection_Subscribe(
            &sub, nc, "bench.raw.throughput",
            [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
              auto* s = static_cast<state*>(c);
              s->lat.push_back(static_cast<double>(now_ns() - sent_of(m)) / 1000.0);
              s->got.fetch_add(1, std::memory_order_release);
              natsMsg_Destroy(m);
            },
            &st),
        "subscribe");
  natsSubscription_SetPendingLimits(sub, -1, -1);
  check(natsConnection_Flush(nc), "flush");
  auto t0 = bench::clock::now();
  for (long i = 0; i < n; ++i) {
    while (i - st.got.load(std::memory_order_acquire) >= 1000)
      std::this_thread::sleep_for(std::chrono::microseconds{50});  // not a spin: 2 cores
    auto b = body(i, "throughput");
    check(natsConnection_Publish(nc, "bench.raw.throughput", b.data(), static_cast<int>(b.size())),
          "publish");
  }
  while (st.got.load(std::memory_order_acquire) < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  bench::report("throughput", "nats", "raw", static_cast<std::size_t>(n), secs, st.lat);
}

void pingpong(long n) {
  auto* nc = connect();
  constexpr long warmup = 1000;
  state st;
  st.n = n + warmup;
  st.nc = nc;
  st.lat.reserve(static_cast<std::size_t>(n));
  static std::atomic<long long> measured_from{0};
  natsSubscription* sub = nullptr;
  check(natsConnection_Subscribe(
            &sub, nc, "bench.raw.pingpong",
            [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
              auto* s = static_cast<state*>(c);
              read_headers(m);
              auto k = s->got.fetch_add(1) + 1;
              if (k > warmup)
                s->lat.push_back(static_cast<double>(now_ns() - sent_of(m)) / 1000.0);
              if (k == warmup)
                measured_from = now_ns();
              natsMsg_Destroy(m);
              if (k < s->n)
                send(s->nc, "bench.raw.pingpong", body(k, "pingpong"));
            },
            &st),
        "subscribe");
  check(natsConnection_Flush(nc), "flush");
  check(send(nc, "bench.raw.pingpong", body(0, "pingpong")), "publish");
  while (st.got.load() < n + warmup)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = static_cast<double>(now_ns() - measured_from.load()) / 1e9;
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  bench::report("pingpong", "nats", impl_name(), static_cast<std::size_t>(n), secs, st.lat);
}

void js_throughput(long n) {
  auto* nc = connect();
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 1000;
  check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
  js_DeleteStream(js, "bench-raw", nullptr, nullptr);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "bench-raw";
  const char* subjects[] = {"bench.raw.js"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  check(js_AddStream(nullptr, js, &cfg, nullptr, nullptr), "add stream");
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = "bench-raw";
  natsSubscription* sub = nullptr;
  check(js_PullSubscribe(&sub, js, "bench.raw.js", "raw", nullptr, &so, nullptr), "pull");
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  std::thread consumer{[&] {
    while (got.load() < n) {
      natsMsgList list{};
      if (natsSubscription_Fetch(&list, sub, 100, 500, nullptr) != NATS_OK)
        continue;
      for (int i = 0; i < list.Count; ++i) {
        lat.push_back(static_cast<double>(now_ns() - sent_of(list.Msgs[i])) / 1000.0);
        natsMsg_Ack(list.Msgs[i], nullptr);
      }
      got += list.Count;
      natsMsgList_Destroy(&list);
    }
  }};
  auto t0 = bench::clock::now();
  for (long i = 0; i < n; ++i) {
    auto b = body(i, "js");
    check(js_PublishAsync(js, "bench.raw.js", b.data(), static_cast<int>(b.size()), nullptr),
          "publish");
  }
  consumer.join();
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  natsSubscription_Destroy(sub);
  js_DeleteStream(js, "bench-raw", nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  bench::report("js_throughput", "nats", "raw", static_cast<std::size_t>(n), secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "throughput")
    throughput(env_or("N", 200000));
  if (which == "all" || which == "pingpong")
    pingpong(env_or("NPING", 20000));
  if (which == "all" || which == "js_throughput")
    js_throughput(env_or("NJS", 50000));
}
