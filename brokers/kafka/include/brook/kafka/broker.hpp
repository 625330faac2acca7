#pragma once
/// @file
/// The Kafka broker: consumer groups with safe commits (only the settled prefix
/// of each partition), credit as paused partitions, an idempotent producer whose
/// delivery reports complete the publishes, on librdkafka, wire-compatible with
/// FastStream.
///
/// @code
/// brook::kafka::broker broker{"127.0.0.1:9092"};
/// broker.subscriber(brook::kafka::topic{.name = "orders", .group = "billing",
///                                       .reset = brook::kafka::offset_reset::earliest})
///       .publisher(brook::kafka::topic_out{.name = "receipts"})
///       .handle([](const order& o) { return receipt{o.id}; });
/// brook::app app{broker, {.title = "billing"}};
/// return app.run(argc, argv);
/// @endcode
/// `broker.subscriber("name")` is a `topic` without a group; `.group` on the
/// declaration (or a router's group) makes it a group member. Declarations:
/// `brook/kafka/specs.hpp`; settings: `brook/kafka/settings.hpp`.
#include <brook/broker.hpp>
#include <brook/kafka/settings.hpp>
#include <brook/kafka/specs.hpp>
#include <string>

namespace brook::kafka {

class broker : public brook::broker {
public:
  explicit broker(std::string bootstrap = "127.0.0.1:9092", settings s = {});
  using brook::broker::bindings;
  asyncapi::server_spec server() const override;
  boost::json::object bindings(const detail::publisher_decl& p) const override;

protected:
  subscription_spec default_spec(std::string address) const override;

private:
  settings settings_;
};

}  // namespace brook::kafka
