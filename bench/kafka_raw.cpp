// Raw librdkafka baseline for brook's Kafka benchmark: the same workloads brook's bench
// runs (bench/kafka_bench.cpp), with the C client alone and the same client settings
// (linger.ms 1, fetch.wait.max.ms 100, idempotent acks=all producer).
//   throughput  N small JSON records produced (at most 1000 produced and not yet consumed)
//               and consumed by a group member on its own thread; latency = receive - send.
//   pingpong    one record in flight: the consumer produces the next one on receipt
//               (FastStream's method).
// Records carry the two headers FastStream (and brook) write, a 36-character correlation_id
// and content-type, and the consumer reads the correlation id back: the same records brook's
// bench sends. RAW_BARE=1 sends bare records instead (impl "raw_bare").
// usage: kafka_raw [throughput|pingpong|all]
// environment: BROOK_KAFKA_BOOTSTRAP (127.0.0.1:9392), N (100000), NPING (2000), RAW_BARE
#include <librdkafka/rdkafka.h>

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

std::string bootstrap() {
  auto* b = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  return b ? b : "127.0.0.1:9392";
}

void set(rd_kafka_conf_t* c, const char* k, const std::string& v) {
  char err[256];
  if (rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka_raw: %s: %s\n", k, err);
    std::exit(1);
  }
}

rd_kafka_t* producer() {
  auto* c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", bootstrap());
  set(c, "enable.idempotence", "true");
  set(c, "linger.ms", "1");
  char err[256];
  return rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
}

rd_kafka_t* consumer(const std::string& topic) {
  auto* c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", bootstrap());
  set(c, "group.id", "raw-" + topic);
  set(c, "auto.offset.reset", "earliest");
  set(c, "fetch.wait.max.ms", "100");
  char err[256];
  auto* rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  auto* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  return rk;
}

bool bare() {
  static const bool b = std::getenv("RAW_BARE") != nullptr;
  return b;
}
const char* impl() {
  return bare() ? "raw_bare" : "raw";
}

/// A 36-character id, as a uuid4's text is long (the content does not matter here).
std::string correlation_id() {
  static unsigned long long n = 0;
  auto s = std::to_string(++n);
  return std::string(36 - s.size(), '0') + s;
}

// The same ~100-byte JSON as brook's `tick`.
std::string body(long seq, const char* kind) {
  return "{\"seq\":" + std::to_string(seq) + ",\"sent_ns\":" + std::to_string(now_ns()) +
         ",\"source\":\"bench\",\"kind\":\"" + kind + "\"}";
}
long long sent_of(const rd_kafka_message_t* m) {
  if (!bare()) {  // what a FastStream-compatible reader looks at first
    rd_kafka_headers_t* h = nullptr;
    const void* v = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "correlation_id", &v, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        size != 36) {
      std::fprintf(stderr, "kafka_raw: a record without its correlation_id\n");
      std::exit(1);
    }
  }
  std::string_view b{static_cast<const char*>(m->payload), m->len};
  auto at = b.find("\"sent_ns\":");
  return std::atoll(b.data() + at + 10);
}

void produce(rd_kafka_t* p, const std::string& topic, const std::string& b) {
  rd_kafka_vu_t vu[5];
  vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vu[0].u.cstr = topic.c_str();
  vu[1].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[1].u.mem.ptr = const_cast<char*>(b.data());
  vu[1].u.mem.size = b.size();
  vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[2].u.i = RD_KAFKA_MSG_F_COPY;
  std::size_t n = 3;
  auto id = correlation_id();
  if (!bare()) {
    vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vu[n].u.header.name = "correlation_id";
    vu[n].u.header.val = id.data();
    vu[n++].u.header.size = static_cast<ssize_t>(id.size());
    vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vu[n].u.header.name = "content-type";
    vu[n].u.header.val = "application/json";
    vu[n++].u.header.size = 16;
  }
  while (auto* e = rd_kafka_produceva(p, vu, n)) {
    rd_kafka_error_destroy(e);
    rd_kafka_poll(p, 1);  // the queue is full: serve delivery reports
  }
  rd_kafka_poll(p, 0);
}

/// Waits until the group member has its partition (the first record arrives).
void warm_up(rd_kafka_t* p, rd_kafka_t* c, const std::string& topic) {
  produce(p, topic, body(-1, "warmup"));
  while (true) {
    auto* m = rd_kafka_consumer_poll(c, 100);
    if (m && !m->err) {
      rd_kafka_message_destroy(m);
      return;
    }
    if (m)
      rd_kafka_message_destroy(m);
  }
}

void throughput(long n) {
  auto topic = "bench-raw-tp-" + std::to_string(now_ns());
  auto* p = producer();
  auto* c = consumer(topic);
  warm_up(p, c, topic);
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  std::atomic<long> got{0};
  std::thread reader([&] {
    while (got.load() < n) {
      auto* m = rd_kafka_consumer_poll(c, 100);
      if (!m)
        continue;
      if (!m->err) {
        lat.push_back(static_cast<double>(now_ns() - sent_of(m)) / 1000.0);
        got.fetch_add(1, std::memory_order_release);
      }
      rd_kafka_message_destroy(m);
    }
  });
  auto t0 = bench::clock::now();
  for (long i = 0; i < n; ++i) {
    while (i - got.load(std::memory_order_acquire) >= 1000) {
      rd_kafka_poll(p, 0);
      std::this_thread::sleep_for(std::chrono::microseconds{50});  // not a spin: 2 cores
    }
    produce(p, topic, body(i, "throughput"));
  }
  reader.join();
  auto secs = std::chrono::duration<double>(bench::clock::now() - t0).count();
  rd_kafka_flush(p, 5000);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  rd_kafka_destroy(p);
  bench::report("throughput", "kafka", impl(), static_cast<std::size_t>(n), secs, lat);
}

void pingpong(long n) {
  auto topic = "bench-raw-pp-" + std::to_string(now_ns());
  auto* p = producer();
  auto* c = consumer(topic);
  warm_up(p, c, topic);
  constexpr long warmup = 100;
  std::vector<double> lat;
  long k = 0;
  long long from = 0;
  produce(p, topic, body(0, "pingpong"));
  while (k < n + warmup) {
    rd_kafka_poll(p, 0);
    auto* m = rd_kafka_consumer_poll(c, 100);
    if (!m)
      continue;
    if (!m->err) {
      ++k;
      if (k > warmup)
        lat.push_back(static_cast<double>(now_ns() - sent_of(m)) / 1000.0);
      if (k == warmup)
        from = now_ns();
      if (k < n + warmup)
        produce(p, topic, body(k, "pingpong"));
    }
    rd_kafka_message_destroy(m);
  }
  auto secs = static_cast<double>(now_ns() - from) / 1e9;
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  rd_kafka_destroy(p);
  bench::report("pingpong", "kafka", impl(), static_cast<std::size_t>(n), secs, lat);
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "throughput")
    throughput(env_or("N", 100000));
  if (which == "all" || which == "pingpong")
    pingpong(env_or("NPING", 2000));
}
