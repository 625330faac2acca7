#pragma once
/// @file
/// The broker base: a router bound to a transport. Every driver's broker
/// (`brook::memory::broker`, `brook::redis::broker`, ...) derives from it and
/// adds its own declaration helpers.
///
/// @code
/// brook::memory::broker broker;
/// broker.subscriber("in").publisher("out").handle([](const order& o) { return receipt{o.id}; });
/// if (auto err = broker.publish("in", order{42}))          // after the app started
///   log.error("not sent: {}", err.to_string());           // error_info is [[nodiscard]]
/// auto r = broker.request<receipt>("in", order{42});      // waits for the reply
/// @endcode
#include <brook/asyncapi/spec.hpp>
#include <brook/deferred.hpp>
#include <brook/router.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace brook {

namespace detail {
class broker_core;
/// Publishes `m` and waits for its reply; throws request_error.
envelope_ptr request_now(const std::shared_ptr<broker_core>& core, outgoing m,
                         std::chrono::milliseconds timeout);
/// Publishes `m`; `done` gets the reply, or null and the failure (timeout included).
void request_later(const std::shared_ptr<broker_core>& core, outgoing m,
                   std::chrono::milliseconds timeout,
                   std::function<void(envelope_ptr, error_info)> done);
}  // namespace detail

class broker : public router {
public:
  explicit broker(std::shared_ptr<transport> t);
  ~broker() override;

  /// Publishes and waits until the broker accepted it (`publish_options::driver`
  /// carries a typed target such as `brook::redis::list_out{}`).
  template <class T>
  error_info publish(std::string channel, const T& body, publish_options o = {}) {
    return detail::publish_now(core_,
                               detail::make_outgoing(std::move(channel), body, std::move(o)));
  }
  /// Publishes to a driver's typed target, named by its `name`:
  /// `broker.publish(brook::redis::list_out{.name = "jobs"}, job{7})`.
  template <spec_type S, class T>
  requires requires(const S& s) { std::string{s.name}; }
  error_info publish(const S& target, const T& body, publish_options o = {}) {
    o.driver = target;
    return publish(std::string{target.name}, body, std::move(o));
  }
  /// Publishes `body` and waits for the reply, decoded as `R` (throws request_error).
  template <class R, class T>
  R request(std::string channel, const T& body, request_options o = {}) {
    publish_options po;
    po.headers = std::move(o.headers);
    po.driver = std::move(o.driver);
    auto env = detail::request_now(
        core_, detail::make_outgoing(std::move(channel), body, std::move(po)), o.timeout);
    R out{};
    if (auto err = brook::codec::decode_body(env->body, env->content_type, out))
      throw request_error{errc::decode_failed,
                          "reply on '" + env->channel + "': " + err->to_string()};
    return out;
  }
  /// The same without blocking: `co_await` it in a `brook::task` handler (see
  /// task.hpp), or complete it from anywhere. Fails with `request_error`.
  /// @code
  /// auto q = co_await broker.request_async<quote>("prices", sku{"A1"}, {.timeout = 2s});
  /// @endcode
  template <class R, class T>
  deferred<R> request_async(std::string channel, const T& body) {
    // Not a default argument: GCC 12 destroys a default argument's temporary twice
    // when the call is the operand of co_await.
    return request_async<R>(std::move(channel), body, request_options{});
  }
  template <class R, class T>
  deferred<R> request_async(std::string channel, const T& body, request_options o) {
    publish_options po;
    po.headers = std::move(o.headers);
    po.driver = std::move(o.driver);
    promise<R> p;
    auto result = p.get_deferred();
    detail::request_later(
        core_, detail::make_outgoing(std::move(channel), body, std::move(po)), o.timeout,
        [p](envelope_ptr env, error_info err) mutable {
          if (err) {
            p.set_exception(std::make_exception_ptr(request_error{err.code, err.message}));
            return;
          }
          R out{};
          if (auto e = brook::codec::decode_body(env->body, env->content_type, out))
            p.set_exception(std::make_exception_ptr(request_error{
                errc::decode_failed, "reply on '" + env->channel + "': " + e->to_string()}));
          else
            p.set_value(std::move(out));
        });
    return result;
  }
  /// The reply as raw envelope (headers, correlation id, body bytes).
  envelope_ptr request_raw(outgoing m,
                           std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    return detail::request_now(core_, std::move(m), timeout);
  }

  std::string_view protocol() const noexcept;
  /// Largest body this broker publishes (default 1 MiB, the same as a
  /// subscriber's `max_body_bytes`); a larger publish fails with
  /// `errc::invalid_argument` naming this setting.
  broker& max_publish_bytes(std::size_t n);
  /// The outbound window: at most `n` publishes (results, replies, publishers,
  /// requests) handed to the driver and not yet confirmed by the broker; default
  /// 10,000. Beyond it a producer thread blocks until confirmations free room, and
  /// a handler's publish waits in order without blocking its thread (its input
  /// stays unsettled, so the subscriber's credit bounds that wait).
  broker& max_publish_in_flight(std::size_t n);
  /// The AsyncAPI server entry for this broker.
  virtual asyncapi::server_spec server() const;
  /// `*` in this broker's patterns spans any characters (Redis) rather than
  /// one `.` segment (NATS-like); the test broker emulates it.
  virtual bool glob_patterns() const noexcept { return false; }
  /// Whether `*` and `>` in any subscribed name are wildcards (NATS subjects), not
  /// only in declarations with `pattern` set; the test broker emulates it.
  virtual bool wildcard_names() const noexcept { return false; }
  /// The kind a publish without a typed target reaches: the default declaration's.
  std::string default_kind() const { return std::string{default_spec("x").driver.kind()}; }
  /// AsyncAPI bindings of a subscriber / publisher: by default its typed
  /// spec's own (`driver_spec::bindings`).
  virtual boost::json::object bindings(const detail::subscriber_decl& d) const {
    boost::json::object b;
    d.spec.driver.bindings(d.spec.address, b);
    return b;
  }
  virtual boost::json::object bindings(const detail::publisher_decl& p) const {
    boost::json::object b;
    p.driver.bindings(p.address, b);
    return b;
  }

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
