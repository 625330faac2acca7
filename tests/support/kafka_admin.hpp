#pragma once
// A look at a Kafka consumer group behind the driver's back (plain librdkafka):
// what the group still has to read on a topic (the log's end minus the group's
// committed offsets, over every partition).
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>

namespace brook_test_support {

/// end offset - committed offset, summed over `topic`'s partitions, for `group`;
/// -1 when the cluster does not answer.
inline long long kafka_lag(const std::string& bootstrap, const std::string& group,
                           const std::string& topic) {
  char err[256];
  auto* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  auto* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk)
    return -1;
  long long lag = -1;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      md->topic_cnt == 1) {
    auto* parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i)
      rd_kafka_topic_partition_list_add(parts, topic.c_str(), md->topics[0].partitions[i].id);
    if (rd_kafka_committed(rk, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      lag = 0;
      for (int i = 0; i < parts->cnt; ++i) {
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), parts->elems[i].partition, &lo, &hi,
                                             5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
          lag = -1;
          break;
        }
        auto committed = parts->elems[i].offset < 0 ? lo : parts->elems[i].offset;
        lag += hi - committed;
      }
    }
    rd_kafka_topic_partition_list_destroy(parts);
  }
  if (md)
    rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return lag;
}

}  // namespace brook_test_support
