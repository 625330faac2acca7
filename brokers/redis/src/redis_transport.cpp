#include <brook/redis/settings.hpp>

#include "engine.hpp"

namespace brook::redis {

/// The Redis implementation of the transport seam; all work happens in `engine`.
class redis_transport final : public brook::transport {
public:
  explicit redis_transport(const settings& s) : engine_(std::make_shared<engine>(s)) {}
  ~redis_transport() override { engine_->close(); }
  redis_transport(const redis_transport&) = delete;
  redis_transport& operator=(const redis_transport&) = delete;

  std::string_view protocol() const noexcept override { return "redis"; }
  std::string url() const override { return engine_->url(); }
  error_info start() override {
    engine_->on_link([obs = observer()](connection_event::kind k, error_info why) {
      if (obs)
        obs->on_event({k, std::move(why)});
    });
    return engine_->start();
  }
  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override {
    return engine_->subscribe(spec, std::move(sink));
  }
  error_info validate(const subscription_spec& spec) const override {
    return engine_->validate(spec);
  }
  void publish(outgoing msg, publish_callback done) override {
    engine_->publish(std::move(msg), std::move(done));
  }
  std::string open_replies(std::shared_ptr<delivery_sink> sink) override {
    return engine_->open_replies(std::move(sink));
  }
  bool connected() const override { return engine_->connected(); }
  void close() override { engine_->close(); }
  error_info restart() override { return engine_->restart(); }

private:
  std::shared_ptr<engine> engine_;
};

std::shared_ptr<brook::transport> make_transport(const settings& s) {
  return std::make_shared<redis_transport>(s);
}

}  // namespace brook::redis
