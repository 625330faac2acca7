#pragma once
/// @file
/// A transport that passes every call to another one: the base of the test broker's
/// recorder and of the drivers' emulations, which override what they add.
///
/// @code
/// class counting final : public brook::detail::forwarding_transport {
/// public:
///   using forwarding_transport::forwarding_transport;
///   void publish(brook::outgoing m, brook::publish_callback done) override {
///     ++published;
///     forwarding_transport::publish(std::move(m), std::move(done));
///   }
///   std::atomic<int> published{0};
/// };
/// @endcode
#include <brook/transport.hpp>
#include <memory>

namespace brook::detail {

class forwarding_transport : public transport {
public:
  explicit forwarding_transport(std::shared_ptr<transport> inner) : inner_(std::move(inner)) {}

  std::string_view protocol() const noexcept override { return inner_->protocol(); }
  std::string url() const override { return inner_->url(); }
  /// The inner transport reports its connection's events to this one's observer.
  error_info start() override {
    inner_->observe(observer());
    return inner_->start();
  }
  error_info restart() override { return inner_->restart(); }
  error_info validate(const subscription_spec& spec) const override {
    return inner_->validate(spec);
  }
  std::unique_ptr<subscription> subscribe(const subscription_spec& spec,
                                          std::shared_ptr<delivery_sink> sink) override {
    return inner_->subscribe(spec, std::move(sink));
  }
  void publish(outgoing msg, publish_callback done) override {
    inner_->publish(std::move(msg), std::move(done));
  }
  std::string open_replies(std::shared_ptr<delivery_sink> sink) override {
    return inner_->open_replies(std::move(sink));
  }
  void close() override { inner_->close(); }
  bool connected() const override { return inner_->connected(); }
  transport& underlying() noexcept override { return inner_->underlying(); }

protected:
  const std::shared_ptr<transport>& inner() const noexcept { return inner_; }

private:
  std::shared_ptr<transport> inner_;
};

}  // namespace brook::detail
