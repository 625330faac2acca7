#pragma once
/// @file
/// The Redis broker: pub/sub channels (and patterns), lists and streams (with
/// consumer groups), on hiredis, wire-compatible with FastStream.
///
/// @code
/// brook::redis::broker broker{"redis://localhost:6379/0"};
/// broker.subscriber(brook::redis::channel{.name = "events.*", .pattern = true}).handle(on_event);
/// broker.subscriber(brook::redis::list{.name = "jobs"}).handle(on_job);
/// broker.subscriber(brook::redis::stream{.name = "orders", .group = "billing"})
///       .publisher(brook::redis::stream_out{.name = "receipts", .maxlen = 10000})
///       .handle([](const order& o) { return receipt{o.id}; });
/// brook::app app{broker, {.title = "billing"}};
/// return app.run(argc, argv);
/// @endcode
/// `broker.subscriber("name")` is a pub/sub channel, as in FastStream. The
/// declarations (`channel`, `list`, `stream`, `list_out`, `stream_out`) are in
/// `brook/redis/specs.hpp`; `broker.publish(brook::redis::list_out{.name = "jobs"}, job)`
/// publishes to one without declaring a publisher.
#include <brook/broker.hpp>
#include <brook/redis/settings.hpp>
#include <brook/redis/specs.hpp>
#include <string>

namespace brook::redis {

class broker : public brook::broker {
public:
  explicit broker(std::string url = "redis://127.0.0.1:6379", settings s = {});

  using brook::broker::bindings;
  asyncapi::server_spec server() const override;
  bool glob_patterns() const noexcept override { return true; }
  boost::json::object bindings(const detail::publisher_decl& p) const override;

protected:
  subscription_spec default_spec(std::string address) const override;

private:
  settings settings_;
};

}  // namespace brook::redis
