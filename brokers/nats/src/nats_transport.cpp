// The NATS implementation of the transport seam: a `client` (the connection) and
// the two kinds of subscription; see brook/nats/settings.hpp for what each does.
#include <brook/detail/ids.hpp>
#include <brook/nats/settings.hpp>
#include <brook/nats/specs.hpp>

#include "client.hpp"
#include "emulation.hpp"
#include "subscriptions.hpp"

namespace brook::nats {

namespace {

class nats_transport final : public brook::transport {
public:
  explicit nats_transport(const settings& s)
      : cl_(std::make_shared<client>(s)), kv_(make_client_kv(cl_)) {}
  ~nats_transport() override { cl_->close(); }
  nats_transport(const nats_transport&) = delete;
  nats_transport& operator=(const nats_transport&) = delete;

  std::string_view protocol() const noexcept override { return "nats"; }
  std::string url() const override { return cl_->url(); }
  error_info start() override {
    return cl_->start([obs = observer()](connection_event::kind k, error_info why) {
      if (obs)
        obs->on_event({k, std::move(why)});
    });
  }

  error_info validate(const subscription_spec& spec) const override {
    if (spec.address.empty())
      return {errc::invalid_argument, "nats: a subscription needs a subject"};
    if (!spec.driver.empty() && spec.driver.protocol() != "nats")
      return {errc::invalid_argument,
              "nats: '" + spec.address + "' is declared as a " +
                  std::string{spec.driver.protocol()} + " " + std::string{spec.driver.kind()} +
                  "; a NATS broker takes brook::nats::subject or brook::nats::jetstream"};
    if (auto* k = spec.driver.get<kv_watch>(); k && k->bucket.empty())
      return {errc::invalid_argument,
              "nats: the kv_watch on '" + spec.address + "' needs a bucket (.bucket = \"name\")"};
    if (auto* j = spec.driver.get<jetstream>()) {
      if (j->stream.empty())
        return {errc::invalid_argument, "nats: the jetstream subscription on '" + spec.address +
                                            "' needs a stream (.stream = \"name\")"};
      if (j->durable.find_first_of(".*> ") != std::string::npos)
        return {errc::invalid_argument,
                "nats: durable name '" + j->durable + "' may not contain '.', '*', '>' or spaces"};
      if (j->mode == consumer_mode::ordered && (!j->durable.empty() || !spec.group.empty()))
        return {errc::invalid_argument,
                "nats: the ordered consumer on '" + spec.address +
                    "' is ephemeral and its own: drop .durable and .queue, or use "
                    "consumer_mode::push for a shared durable"};
    }
    return {};
  }

  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override {
    if (auto err = validate(spec))
      return failed_subscription(*sink, std::move(err));
    if (spec.driver.get<jetstream>())
      return subscribe_jetstream(cl_, spec, std::move(sink));
    if (spec.driver.get<kv_watch>())
      return subscribe_kv(cl_, spec, std::move(sink));
    return subscribe_subject(cl_, spec, std::move(sink));
  }

  void publish(outgoing msg, publish_callback done) override {
    if (!msg.driver.empty() && msg.driver.protocol() != "nats") {
      done({errc::invalid_argument, "nats: cannot publish to a " +
                                        std::string{msg.driver.protocol()} + " target ('" +
                                        msg.channel + "')"});
      return;
    }
    cl_->publish(std::move(msg), std::move(done));
  }

  std::string open_replies(std::shared_ptr<delivery_sink> sink) override {
    auto inbox = "_INBOX.brook." + detail::new_uuid();
    std::erase(inbox, '-');
    replies_.push_back(subscribe_subject(cl_, {.address = inbox}, std::move(sink), true));
    return inbox;
  }

  bool connected() const override { return cl_->connected(); }
  void close() override {
    replies_.clear();
    cl_->close();
  }

public:
  std::shared_ptr<brook::transport> emulate(
      std::shared_ptr<brook::transport> memory) const override {
    return make_emulation(std::move(memory));
  }

  const std::shared_ptr<client>& get_client() const noexcept { return cl_; }
  kv_backend& buckets() const noexcept { return *kv_; }

private:
  std::shared_ptr<client> cl_;
  std::unique_ptr<kv_backend> kv_;
  std::vector<std::unique_ptr<subscription>> replies_;
};

}  // namespace

std::shared_ptr<client> client_of(const std::shared_ptr<brook::transport>& t) {
  auto* n = t ? dynamic_cast<nats_transport*>(&t->underlying()) : nullptr;
  return n ? n->get_client() : nullptr;
}

kv_backend* kv_of(brook::transport& t) {
  auto& u = t.underlying();
  if (auto* n = dynamic_cast<nats_transport*>(&u))
    return &n->buckets();
  return dynamic_cast<kv_backend*>(&u);  // the test broker's emulation, or null
}

std::shared_ptr<brook::transport> make_transport(const settings& s) {
  return std::make_shared<nats_transport>(s);
}

}  // namespace brook::nats
