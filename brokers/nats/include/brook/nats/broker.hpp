#pragma once
/// @file
/// The NATS broker: core subjects (wildcards, queue groups, native
/// request/reply) and JetStream (pull consumers with acks, PubAck publishes), on
/// nats.c, wire-compatible with FastStream.
///
/// @code
/// brook::nats::broker broker{"nats://127.0.0.1:4222"};
/// broker.subscriber("orders.{region}").handle(on_order);             // a core subject
/// broker.subscriber(brook::nats::jetstream{.name = "payments", .stream = "payments",
///                                          .durable = "billing"})
///       .publisher(brook::nats::jetstream_out{.name = "receipts"})
///       .handle([](const payment& p) { return receipt{p.id}; });
/// brook::app app{broker, {.title = "billing"}};
/// return app.run(argc, argv);
/// @endcode
/// `broker.subscriber("name")` is a core subject, as in FastStream. The
/// declarations are in `brook/nats/specs.hpp`, the connection's options in
/// `brook/nats/settings.hpp`.
#include <brook/broker.hpp>
#include <brook/nats/key_value.hpp>
#include <brook/nats/settings.hpp>
#include <brook/nats/specs.hpp>
#include <memory>
#include <string>

namespace brook::nats {

class broker : public brook::broker {
public:
  explicit broker(std::string url = "nats://127.0.0.1:4222", settings s = {});
  using brook::broker::bindings;
  asyncapi::server_spec server() const override;
  boost::json::object bindings(const detail::publisher_decl& p) const override;
  bool wildcard_names() const noexcept override { return true; }
  /// The key-value bucket `bucket` on this broker's connection (created on first use
  /// when missing); `broker.provide(broker.key_value("config"))` makes it injectable.
  std::shared_ptr<nats::key_value> key_value(std::string bucket) const;

protected:
  subscription_spec default_spec(std::string address) const override;

private:
  settings settings_;
};

}  // namespace brook::nats
