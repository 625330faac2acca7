#include <spdlog/logger.h>

#include <brook/logger.hpp>
#include <brook/redis/broker.hpp>

namespace brook::redis {

namespace {
settings with_url(std::string url, settings s) {
  s.url = std::move(url);
  // The driver logs nothing itself; the broker turns its events into log lines.
  if (!s.on_event)
    s.on_event = log_driver_events("redis: ");
  return s;
}
}  // namespace

broker::broker(std::string url, settings s)
    : brook::broker(make_transport(with_url(url, s))),
      settings_(with_url(std::move(url), std::move(s))) {}

subscription_spec broker::default_spec(std::string address) const {
  return subscription_spec::of(channel{.name = std::move(address)});
}

asyncapi::server_spec broker::server() const {
  auto s = brook::broker::server();
  s.protocol = "redis";
  endpoint e;
  if (!parse_url(settings_.url, e))
    s.url = "redis://" + e.host + ":" + std::to_string(e.port) + "/" + std::to_string(e.db);
  s.protocol_version = "custom";
  return s;
}

boost::json::object broker::bindings(const detail::publisher_decl& p) const {
  if (!p.driver.empty() && !p.driver.get<channel>())
    return brook::broker::bindings(p);
  boost::json::object b{
      {"channel", p.address}, {"method", "publish"}, {"bindingVersion", "custom"}};
  return boost::json::object{{"redis", std::move(b)}};
}

}  // namespace brook::redis
