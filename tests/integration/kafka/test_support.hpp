#pragma once
// Helpers shared by the Kafka driver tests: the broker's address, unique topics,
// topics with several partitions, and a producer behind the driver's back.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <brook/app.hpp>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../../support/kafka_admin.hpp"

namespace brook_test {

inline std::string bootstrap() {
  const char* b = std::getenv("BROOK_KAFKA_BOOTSTRAP");
  return b && *b ? b : "127.0.0.1:9392";
}

/// A topic no other test (or earlier run) uses.
inline std::string unique(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "kt-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

inline brook::detail::subscriber_snapshot stats_of(brook::app& app, const std::string& address) {
  for (auto& s : app.stats())
    if (s.address == address)
      return s;
  ADD_FAILURE() << "no subscriber on " << address;
  return {};
}

/// A raw librdkafka producer: creates topics and writes records as a foreign producer would.
class raw_producer {
public:
  raw_producer() {
    char err[256];
    auto* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap().c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  }
  ~raw_producer() {
    rd_kafka_flush(rk_, 10000);
    rd_kafka_destroy(rk_);
  }
  raw_producer(const raw_producer&) = delete;
  raw_producer& operator=(const raw_producer&) = delete;

  /// Creates `topic` with `partitions` partitions; true when it exists afterwards.
  bool create(const std::string& topic, int partitions) {
    char err[256];
    auto* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
    auto* q = rd_kafka_queue_new(rk_);
    rd_kafka_CreateTopics(rk_, &nt, 1, nullptr, q);
    bool ok = false;
    if (auto* ev = rd_kafka_queue_poll(q, 10000)) {
      ok = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR;
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return ok;
  }

  /// Writes one record (partition -1: by key); headers as name/value pairs.
  void produce(const std::string& topic, const std::string& value, const std::string& key = {},
               std::vector<std::pair<std::string, std::string>> headers = {},
               std::int32_t partition = RD_KAFKA_PARTITION_UA) {
    auto* h = rd_kafka_headers_new(headers.size());
    for (auto& [k, v] : headers)
      rd_kafka_header_add(h, k.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    rd_kafka_vu_t vu[6];
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic.c_str();
    vu[1].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[1].u.mem.ptr = const_cast<char*>(value.data());
    vu[1].u.mem.size = value.size();
    vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[2].u.i = RD_KAFKA_MSG_F_COPY;
    vu[3].vtype = RD_KAFKA_VTYPE_HEADERS;
    vu[3].u.headers = h;
    vu[4].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[4].u.i32 = partition;
    std::size_t n = 5;
    if (!key.empty()) {
      vu[5].vtype = RD_KAFKA_VTYPE_KEY;
      vu[5].u.mem.ptr = const_cast<char*>(key.data());
      vu[5].u.mem.size = key.size();
      n = 6;
    }
    while (auto* e = rd_kafka_produceva(rk_, vu, n)) {
      auto code = rd_kafka_error_code(e);
      rd_kafka_error_destroy(e);
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_headers_destroy(h);
        ADD_FAILURE() << "produce: " << rd_kafka_err2str(code);
        return;
      }
      rd_kafka_poll(rk_, 10);
    }
    rd_kafka_poll(rk_, 0);
  }
  void flush() { rd_kafka_flush(rk_, 30000); }

private:
  rd_kafka_t* rk_;
};

}  // namespace brook_test
