// The test broker's Kafka. The in-memory transport routes, credits and settles as a
// Kafka subscription does (the typed specs carry that); this adds what a topic is on
// Kafka: a log that outlives consumption, with offsets and timestamps, so a seek
// replays. Each topic has one partition here (0): records keep their order, keyed or
// not. A seek drops what the subscriptions of the topic were still to receive and
// publishes the log again from the new position; what they hold keeps running.
#include "emulation.hpp"

#include <brook/detail/forwarding_transport.hpp>
#include <brook/kafka/specs.hpp>
#include <brook/memory/transport.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "envelope.hpp"

namespace brook::kafka {

namespace {

/// Carries a record's offset, timestamp and key from the log to its delivery, where
/// `stamping_sink` takes it off again: "<offset>:<timestamp ms>:<key>".
constexpr std::string_view stamp_header = "x-brook-kafka-record";

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Writes the record's place into a delivery as the driver does (to_envelope).
class stamping_sink final : public delivery_sink {
public:
  explicit stamping_sink(std::shared_ptr<delivery_sink> inner) : inner_(std::move(inner)) {}
  void deliver(envelope_ptr env) override {
    if (const auto* v = env->headers.find(stamp_header)) {
      std::string_view s{*v};
      std::int64_t offset = 0, ts = 0;
      auto a = s.find(':');
      auto b = s.find(':', a + 1);
      std::from_chars(s.data(), s.data() + a, offset);
      std::from_chars(s.data() + a + 1, s.data() + b, ts);
      if (b + 1 < s.size())
        env->metadata.insert_or_assign("key", std::string{s.substr(b + 1)});
      env->headers.erase(stamp_header);
      env->delivery.partition = 0;
      env->delivery.offset = offset;
      env->delivery.timestamp_ms = ts;
      env->delivery.broker_id = record_id(env->channel, 0, offset);
    }
    inner_->deliver(std::move(env));
  }
  void failed(error_info err) override { inner_->failed(std::move(err)); }
  void subscribed() override { inner_->subscribed(); }
  void gap(const error_info& why) override { inner_->gap(why); }
  void interrupted(const error_info& why) override { inner_->interrupted(why); }

private:
  std::shared_ptr<delivery_sink> inner_;
};

class emulation final : public detail::forwarding_transport {
public:
  explicit emulation(std::shared_ptr<memory::memory_transport> mem)
      : forwarding_transport(mem), mem_(std::move(mem)) {}

  transport& underlying() noexcept override { return *this; }

  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override {
    return forwarding_transport::subscribe(spec, std::make_shared<stamping_sink>(std::move(sink)));
  }
  std::string open_replies(std::shared_ptr<delivery_sink> sink) override {
    return forwarding_transport::open_replies(std::make_shared<stamping_sink>(std::move(sink)));
  }

  void publish(outgoing msg, publish_callback done) override {
    const auto* target = msg.driver.get<topic_out>();
    auto ts = target && target->timestamp_ms > 0 ? target->timestamp_ms : now_ms();
    error_info result;
    {
      // Held across the memory publish, so the log's order is the topics' order; the
      // completion runs after it (it may publish again).
      std::lock_guard lock{mtx_};
      auto& log = logs_[msg.channel];
      msg.headers.set(std::string{stamp_header}, std::to_string(log.size()) + ":" +
                                                     std::to_string(ts) + ":" +
                                                     (target ? target->key : std::string{}));
      log.push_back(msg);
      mem_->publish(std::move(msg), [&](const error_info& e) { result = e; });
    }
    if (done)
      done(result);
  }

  error_info seek(const seek_request& r) {
    if (r.partition > 0)
      return {errc::not_found, "kafka (test broker): '" + r.topic +
                                   "' has one partition here, 0; " + "partition " +
                                   std::to_string(r.partition) + " is not held"};
    std::lock_guard lock{mtx_};
    if (mem_->discard_pending(r.topic) == 0)
      return {errc::not_found, "kafka: no running subscription of this broker reads '" + r.topic +
                                   "'; seek once the app has started"};
    auto& log = logs_[r.topic];
    std::size_t from = log.size();
    if (r.by_time) {
      for (std::size_t i = 0; i < log.size() && from == log.size(); ++i)
        if (stamp_time(log[i]) >= r.offset)
          from = i;
    } else if (r.offset == offset_beginning) {
      from = 0;
    } else if (r.offset >= 0) {
      from = std::min(static_cast<std::size_t>(r.offset), log.size());
    }
    for (std::size_t i = from; i < log.size(); ++i)
      mem_->publish(log[i], nullptr);
    return {};
  }

private:
  static std::int64_t stamp_time(const outgoing& m) {
    std::string_view s{*m.headers.find(stamp_header)};
    auto a = s.find(':');
    std::int64_t ts = 0;
    std::from_chars(s.data() + a + 1, s.data() + s.find(':', a + 1), ts);
    return ts;
  }

  std::shared_ptr<memory::memory_transport> mem_;
  std::mutex mtx_;
  std::map<std::string, std::vector<outgoing>, std::less<>> logs_;
};

}  // namespace

std::shared_ptr<brook::transport> make_emulation(std::shared_ptr<brook::transport> memory) {
  auto mem = std::dynamic_pointer_cast<memory::memory_transport>(memory);
  return mem ? std::make_shared<emulation>(std::move(mem)) : memory;
}

std::optional<error_info> emulated_seek(brook::transport& t, const seek_request& r) {
  auto* e = dynamic_cast<emulation*>(&t);
  if (!e)
    return std::nullopt;
  return e->seek(r);
}

}  // namespace brook::kafka
