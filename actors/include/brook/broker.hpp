#pragma once
/// @file
/// The broker base: a router bound to a transport. Every driver's broker
/// (`brook::memory::broker`, `brook::redis::broker`, ...) derives from it and
/// adds its own declaration helpers.
///
/// @code
/// brook::memory::broker broker;
/// broker.subscriber("in").publisher("out").handle([](const order& o) { return receipt{o.id}; });
/// broker.publish("in", order{42});                        // after the app started
/// auto r = broker.request<receipt>("in", order{42});      // waits for the reply
/// @endcode
#include <brook/asyncapi/spec.hpp>
#include <brook/router.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace brook {

namespace detail {
class broker_core;
/// Publishes `m` and waits for its reply; throws request_error.
envelope_ptr request_now(const std::shared_ptr<broker_core>& core, outgoing m,
                         std::chrono::milliseconds timeout);
}  // namespace detail

class broker : public router {
public:
  explicit broker(std::shared_ptr<transport> t);
  ~broker() override;

  /// Publishes and waits until the broker accepted it (`publish_options::driver`
  /// carries driver options such as a Redis list kind).
  template <class T>
  error_info publish(std::string channel, const T& body, publish_options o = {}) {
    return detail::publish_now(core_, detail::make_outgoing(std::move(channel), body, std::move(o)));
  }
  /// Publishes `body` and waits for the reply, decoded as `R` (throws request_error).
  template <class R, class T>
  R request(std::string channel, const T& body, request_options o = {}) {
    publish_options po;
    po.headers = std::move(o.headers);
    po.driver = std::move(o.driver);
    auto env = detail::request_now(core_, detail::make_outgoing(std::move(channel), body, std::move(po)),
                                   o.timeout);
    R out{};
    if (auto err = brook::codec::decode_body(env->body, env->content_type, out))
      throw request_error{errc::decode_failed, "reply on '" + env->channel + "': " + err->to_string()};
    return out;
  }
  /// The reply as raw envelope (headers, correlation id, body bytes).
  envelope_ptr request_raw(outgoing m, std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    return detail::request_now(core_, std::move(m), timeout);
  }

  std::string_view protocol() const noexcept;
  /// Largest body this broker publishes (default 1 MiB, the same as a
  /// subscriber's `max_body_bytes`); a larger publish fails with
  /// `errc::invalid_argument` naming this setting.
  broker& max_publish_bytes(std::size_t n);
  /// The AsyncAPI server entry for this broker.
  virtual asyncapi::server_spec server() const;
  /// `*` in this broker's patterns spans any characters (Redis) rather than
  /// one `.` segment (NATS-like); the test broker emulates it.
  virtual bool glob_patterns() const noexcept { return false; }
  /// Per-broker AsyncAPI bindings of a subscriber / publisher.
  virtual boost::json::object bindings(const detail::subscriber_decl&) const { return {}; }
  virtual boost::json::object bindings(const detail::publisher_decl&) const { return {}; }

  const std::shared_ptr<detail::broker_core>& core() const noexcept { return core_; }
  /// The current transport.
  std::shared_ptr<transport> get_transport() const;
  /// Replaces the transport before start (the test broker does); returns the old one.
  std::shared_ptr<transport> swap_transport(std::shared_ptr<transport> t);

protected:
  void adopt(detail::subscriber_decl&) override;
  void adopt(detail::publisher_decl&) override;

private:
  std::shared_ptr<detail::broker_core> core_;
};

}  // namespace brook
