// Fault injection with librdkafka's mock cluster (in process, no server): request
// errors on produce are retried by the idempotent producer without duplicates, a broker
// that goes down makes the service not ready until it is back, and a leader change in
// the middle of a stream loses nothing.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/kafka/broker.hpp>
#include <thread>

#include "../../support/eventually.hpp"
#include "../../support/ledger.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::unique;
using brook_test_support::eventually;
using seen_set = brook_test_support::handled_set;
namespace kafka = brook::kafka;

namespace {

/// A mock cluster of `brokers` brokers, hosted by a handle of its own.
class mock_cluster {
public:
  explicit mock_cluster(int brokers) {
    char err[256];
    auto* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
  }
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  rd_kafka_mock_cluster_t* get() const { return cluster_; }

private:
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

kafka::settings quick() {
  kafka::settings s;
  s.poll_wait = 50ms;
  s.connect_timeout = 3s;
  s.config["log_level"] = "0";  // the mock's own chatter
  return s;
}

/// Every record of `topic`'s partition 0, read from the start without a group.
std::vector<std::string> read_all(const std::string& bootstrap, const std::string& topic,
                                  std::size_t expected) {
  kafka::broker reader{bootstrap, quick()};
  seen_set seen;
  std::vector<std::string> bodies;
  std::mutex mtx;
  reader
      .subscriber(
          kafka::topic{.name = topic, .reset = kafka::offset_reset::earliest, .partitions = {0}})
      .handle([&](const std::string& b) {
        std::lock_guard lock{mtx};
        bodies.push_back(b);
      });
  brook::app app{reader};
  app.start({.log_level = "off"});
  eventually(
      [&] {
        std::lock_guard lock{mtx};
        return bodies.size() >= expected;
      },
      20s);
  std::this_thread::sleep_for(300ms);  // and nothing more
  app.stop();
  std::lock_guard lock{mtx};
  return bodies;
}

}  // namespace

TEST(KafkaMock, ProduceErrorsAreRetriedWithoutDuplicates) {
  mock_cluster mock{1};
  auto topic = unique("retry");
  ASSERT_EQ(rd_kafka_mock_topic_create(mock.get(), topic.c_str(), 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  kafka::broker broker{mock.bootstrap(), quick()};
  brook::app app{broker};
  app.start({.log_level = "off"});
  // The next three produce requests fail with retriable errors, one after the transport drops.
  rd_kafka_resp_err_t errors[] = {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                  RD_KAFKA_RESP_ERR__TRANSPORT,
                                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT};
  rd_kafka_mock_push_request_errors_array(mock.get(), 0 /* Produce */, 3, errors);
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(broker.publish(topic, std::to_string(i))) << "publish " << i;
  app.stop();
  auto bodies = read_all(mock.bootstrap(), topic, 10);
  EXPECT_EQ(bodies.size(), 10u) << "each once: the idempotent producer drops its own resends";
}

TEST(KafkaMock, ABrokerDownMakesTheServiceNotReadyUntilItIsBack) {
  mock_cluster mock{1};
  auto topic = unique("down");
  ASSERT_EQ(rd_kafka_mock_topic_create(mock.get(), topic.c_str(), 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  kafka::broker broker{mock.bootstrap(), quick()};
  seen_set seen;
  broker
      .subscriber(
          kafka::topic{.name = topic, .reset = kafka::offset_reset::earliest, .partitions = {0}})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  ASSERT_FALSE(broker.publish(topic, std::string{"before"}));
  ASSERT_TRUE(eventually([&] { return seen.size() == 1; }));
  rd_kafka_mock_broker_set_down(mock.get(), 1);
  ASSERT_TRUE(eventually([&] { return !app.ready(); }, 30s)) << "readiness follows the cluster";
  rd_kafka_mock_broker_set_up(mock.get(), 1);
  ASSERT_TRUE(eventually([&] { return app.ready(); }, 30s));
  ASSERT_FALSE(broker.publish(topic, std::string{"after"}));
  ASSERT_TRUE(eventually([&] { return seen.size() == 2; }, 20s)) << "the consumer resumed";
}

TEST(KafkaMock, ALeaderChangeMidStreamLosesNothing) {
  mock_cluster mock{3};
  auto topic = unique("leader");
  ASSERT_EQ(rd_kafka_mock_topic_create(mock.get(), topic.c_str(), 1, 3),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), 0, 1);
  kafka::broker broker{mock.bootstrap(), quick()};
  brook::app app{broker};
  app.start({.log_level = "off"});
  std::atomic<int> failed{0};
  auto out = broker.publisher(topic);
  for (int i = 0; i < 200; ++i) {
    if (i == 100)
      rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), 0, 2);
    out.publish_async(std::to_string(i), [&](const brook::error_info& e) {
      if (e)
        ++failed;
    });
  }
  ASSERT_FALSE(out.publish(std::string{"last"}));
  app.stop();
  EXPECT_EQ(failed.load(), 0);
  auto bodies = read_all(mock.bootstrap(), topic, 201);
  EXPECT_EQ(bodies.size(), 201u);
  std::set<std::string> distinct(bodies.begin(), bodies.end());
  EXPECT_EQ(distinct.size(), 201u);
}
