// The test broker's Kafka. The in-memory transport credits and settles as a Kafka
// subscription does (the typed specs carry that); this adds what a topic is on Kafka:
// - Routing: a regex pattern (`^...`) takes every matching topic, a subscription reads
//   its `more` topics too, and one with `partitions` reads only those.
// - A log per partition that outlives consumption, with offsets and timestamps, so a seek
//   replays. A record goes to the target's partition, or to partition 0 (the emulation
//   does not hash keys: a topic here has the partitions records were sent to).
// A seek drops what the subscriptions were still to receive of that partition and
// publishes its log again from the new position; what they hold keeps running.
#include "emulation.hpp"

#include <algorithm>
#include <brook/detail/forwarding_transport.hpp>
#include <brook/kafka/specs.hpp>
#include <brook/memory/transport.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <vector>

#include "envelope.hpp"

namespace brook::kafka {

namespace {

/// Carries a record's place from the log to its envelope, where `finish` takes it off
/// again: "<partition>:<offset>:<timestamp ms>:<key>".
constexpr std::string_view stamp_header = "x-brook-kafka-record";

struct stamp {
  std::int32_t partition = -1;  ///< -1: not a logged record (a probe)
  std::int64_t offset = 0, timestamp_ms = 0;
  std::string_view key;
};

stamp read_stamp(const headers& h) {
  stamp st;
  const auto* v = h.find(stamp_header);
  if (!v)
    return st;
  std::string_view s{*v};
  auto field = [&](auto& into) {
    auto end = s.find(':');
    std::from_chars(s.data(), s.data() + end, into);
    s.remove_prefix(end + 1);
  };
  field(st.partition);
  field(st.offset);
  field(st.timestamp_ms);
  st.key = s;
  return st;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Writes the record's place into a delivery as the driver does (to_envelope), and takes
/// the stamp off.
void finish(envelope& env) {
  auto st = read_stamp(env.headers);
  if (st.partition < 0)
    return;
  if (!st.key.empty())
    env.metadata.insert_or_assign("key", std::string{st.key});
  env.delivery.partition = st.partition;
  env.delivery.offset = st.offset;
  env.delivery.timestamp_ms = st.timestamp_ms;
  record_id(env.channel, st.partition, st.offset, env.delivery.broker_id);
  env.headers.erase(stamp_header);  // last: `st.key` views the header
}

class emulation final : public detail::forwarding_transport {
public:
  explicit emulation(std::shared_ptr<memory::memory_transport> mem)
      : forwarding_transport(mem), mem_(std::move(mem)) {
    mem_->emulate_with(
        {.route = [this](const subscription_spec& s, const outgoing& m) { return route(s, m); },
         .finish = &finish});
  }

  ~emulation() override { mem_->emulate_with({}); }  // the router points here
  emulation(const emulation&) = delete;
  emulation& operator=(const emulation&) = delete;

  transport& underlying() noexcept override { return *this; }

  void publish(outgoing msg, publish_callback done) override {
    const auto* target = msg.driver.get<topic_out>();
    auto ts = target && target->timestamp_ms > 0 ? target->timestamp_ms : now_ms();
    std::int32_t partition = target && target->partition >= 0 ? target->partition : 0;
    error_info result;
    {
      // Held across the memory publish, so a log's order is its partition's order; the
      // completion runs after it (it may publish again).
      std::lock_guard lock{mtx_};
      auto& log = logs_[{msg.channel, partition}];
      msg.headers.set(std::string{stamp_header},
                      std::to_string(partition) + ":" + std::to_string(log.size()) + ":" +
                          std::to_string(ts) + ":" + (target ? target->key : std::string{}));
      log.push_back(msg);
      mem_->publish(std::move(msg), [&](const error_info& e) { result = e; });
    }
    if (done)
      done(result);
  }

  error_info seek(const seek_request& r) {
    std::lock_guard lock{mtx_};
    std::set<std::int32_t> parts;
    for (auto& [key, log] : logs_)
      if (key.first == r.topic && (r.partition < 0 || key.second == r.partition))
        parts.insert(key.second);
    if (r.partition >= 0)
      parts.insert(r.partition);
    outgoing probe;  // no stamp: reaches every subscription that reads the topic
    probe.channel = r.topic;
    auto readers = mem_->discard_pending(
        probe, [&](const envelope& e) { return parts.count(e.delivery.partition) > 0; });
    if (readers == 0)
      return {errc::not_found, "kafka: no running subscription of this broker reads '" + r.topic +
                                   "'; seek once the app has started"};
    for (auto p : parts) {
      auto& log = logs_[{r.topic, p}];
      for (auto i = start_of(log, r); i < log.size(); ++i)
        mem_->publish(log[i], nullptr);
    }
    return {};
  }

private:
  /// Where a seek `r` continues in `log`.
  static std::size_t start_of(const std::vector<outgoing>& log, const seek_request& r) {
    if (r.by_time) {
      for (std::size_t i = 0; i < log.size(); ++i)
        if (read_stamp(log[i].headers).timestamp_ms >= r.offset)
          return i;
      return log.size();
    }
    if (r.offset == offset_beginning)
      return 0;
    if (r.offset < 0)
      return log.size();  // offset_end
    return std::min(static_cast<std::size_t>(r.offset), log.size());
  }

  /// Kafka's routing for `topic` subscriptions; others (the reply route) as memory routes.
  std::optional<bool> route(const subscription_spec& s, const outgoing& m) {
    const auto* t = s.driver.get<topic>();
    if (!t)
      return std::nullopt;
    bool reads = s.pattern ? std::regex_search(m.channel, pattern(s.address))
                           : m.channel == s.address || std::find(t->more.begin(), t->more.end(),
                                                                 m.channel) != t->more.end();
    if (!reads || t->partitions.empty())
      return reads;
    auto p = read_stamp(m.headers).partition;
    return p < 0 || std::find(t->partitions.begin(), t->partitions.end(), p) != t->partitions.end();
  }

  /// A subscription's regex, compiled once (librdkafka's patterns are POSIX extended).
  const std::regex& pattern(const std::string& source) {
    std::lock_guard lock{regex_mtx_};
    auto i = regexes_.find(source);
    if (i == regexes_.end())
      i = regexes_.emplace(source, std::regex{source, std::regex::extended}).first;
    return i->second;
  }

  std::shared_ptr<memory::memory_transport> mem_;
  std::mutex mtx_;
  std::map<std::pair<std::string, std::int32_t>, std::vector<outgoing>> logs_;
  std::mutex regex_mtx_;
  std::map<std::string, std::regex> regexes_;
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
