// The Kafka transport: the seam over the client (producer) and one consumer per
// subscription; requests get a reply topic of the transport's own.
#include <brook/detail/ids.hpp>
#include <brook/kafka/settings.hpp>
#include <brook/kafka/specs.hpp>
#include <vector>

#include "emulation.hpp"
#include "subscriptions.hpp"

namespace brook::kafka {

namespace {

class kafka_transport final : public brook::transport {
public:
  explicit kafka_transport(const settings& s) : cl_(std::make_shared<client>(s)) {}
  ~kafka_transport() override { close(); }

  std::string_view protocol() const noexcept override { return "kafka"; }
  std::string url() const override { return "kafka://" + cl_->cfg().bootstrap; }

  error_info start() override {
    auto obs = observer();
    return cl_->start([obs](connection_event::kind k, error_info why) {
      if (obs)
        obs->on_event({k, std::move(why)});
    });
  }

  error_info validate(const subscription_spec& spec) const override {
    if (!spec.driver.empty() && spec.driver.protocol() != "kafka")
      return {errc::invalid_argument, "kafka: '" + spec.address + "' is declared as a " +
                                          std::string{spec.driver.protocol()} + " " +
                                          std::string{spec.driver.kind()} +
                                          "; a Kafka broker takes brook::kafka::topic"};
    if (spec.address.empty())
      return {errc::invalid_argument, "kafka: a subscription needs a topic"};
    const auto* t = spec.driver.get<topic>();
    if (spec.pattern && spec.address.front() != '^')
      return {errc::invalid_argument, "kafka: the pattern '" + spec.address +
                                          "' must start with '^' (librdkafka's regex form)"};
    if (t && !t->partitions.empty() && (spec.pattern || !t->more.empty()))
      return {errc::invalid_argument, "kafka: '" + spec.address +
                                          "': partitions are assigned on one topic, not a "
                                          "pattern or several topics"};
    if (t && !t->group_instance_id.empty() && spec.group.empty())
      return {errc::invalid_argument,
              "kafka: '" + spec.address + "': group_instance_id needs a group"};
    if (t && (t->start_offset >= 0 || t->start_timestamp_ms > 0)) {
      if (t->start_offset >= 0 && t->start_timestamp_ms > 0)
        return {errc::invalid_argument,
                "kafka: '" + spec.address + "': start_offset or start_timestamp_ms, not both"};
      if (!spec.group.empty() && t->partitions.empty())
        return {errc::invalid_argument,
                "kafka: '" + spec.address +
                    "': a group starts from its committed offsets; to read from an offset or a "
                    "time, assign partitions (.partitions = {...}) or drop the group"};
    }
    if (spec.group.empty() && t && (!t->more.empty() || spec.pattern))
      return {errc::invalid_argument,
              "kafka: '" + spec.address + "': several topics or a pattern need a group"};
    return {};
  }

  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override {
    if (auto err = validate(spec))
      return failed_subscription(*sink, std::move(err));
    return subscribe_topic(cl_, spec, std::move(sink));
  }

  void publish(outgoing msg, publish_callback done) override {
    if (!msg.driver.empty() && msg.driver.protocol() != "kafka") {
      done({errc::invalid_argument, "kafka: cannot publish to a " +
                                        std::string{msg.driver.protocol()} + " target ('" +
                                        msg.channel + "')"});
      return;
    }
    cl_->publish(std::move(msg), std::move(done));
  }

  /// A topic of this transport's own (one partition), read from its start.
  std::string open_replies(std::shared_ptr<delivery_sink> sink) override {
    auto name = "brook-replies-" + detail::new_uuid();
    (void)cl_->create_topic(name, 1, cl_->cfg().connect_timeout);
    subscription_spec spec;
    spec.address = name;
    spec.driver = topic{.name = name, .reset = offset_reset::earliest, .partitions = {0}};
    replies_.push_back(subscribe_topic(cl_, spec, std::move(sink), true));
    return name;
  }

  bool connected() const override { return cl_->connected(); }
  void close() override {
    replies_.clear();
    cl_->close();
  }

  std::shared_ptr<brook::transport> emulate(
      std::shared_ptr<brook::transport> memory) const override {
    return make_emulation(std::move(memory));
  }

  const std::shared_ptr<client>& get_client() const noexcept { return cl_; }

private:
  std::shared_ptr<client> cl_;
  std::vector<std::unique_ptr<subscription>> replies_;
};

}  // namespace

std::shared_ptr<client> client_of(const std::shared_ptr<brook::transport>& t) {
  auto* k = t ? dynamic_cast<kafka_transport*>(&t->underlying()) : nullptr;
  return k ? k->get_client() : nullptr;
}

std::shared_ptr<brook::transport> make_transport(const settings& s) {
  return std::make_shared<kafka_transport>(s);
}

}  // namespace brook::kafka
