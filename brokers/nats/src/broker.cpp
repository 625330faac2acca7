#include <spdlog/logger.h>

#include <boost/json/object.hpp>
#include <brook/logger.hpp>
#include <brook/nats/broker.hpp>

#include "subscriptions.hpp"

namespace brook::nats {

namespace {
settings with_url(std::string url, settings s) {
  s.url = std::move(url);
  // The driver logs nothing itself; the broker turns its events into log lines.
  if (!s.on_event)
    s.on_event = log_driver_events();
  return s;
}
}  // namespace

broker::broker(std::string url, settings s)
    : brook::broker(make_transport(with_url(url, s))),
      settings_(with_url(std::move(url), std::move(s))) {}

subscription_spec broker::default_spec(std::string address) const {
  return subscription_spec::of(subject{.name = std::move(address)});
}

asyncapi::server_spec broker::server() const {
  auto s = brook::broker::server();
  s.protocol = "nats";
  s.url = redact_url(settings_.url);
  s.protocol_version = "custom";
  return s;
}

boost::json::object broker::bindings(const detail::publisher_decl& p) const {
  if (!p.driver.empty() && !p.driver.get<subject>())
    return brook::broker::bindings(p);
  boost::json::object b{{"subject", p.address}, {"bindingVersion", "custom"}};
  return boost::json::object{{"nats", std::move(b)}};
}

std::shared_ptr<nats::key_value> broker::key_value(std::string bucket) const {
  return std::make_shared<nats::key_value>(*this, std::move(bucket));
}

}  // namespace brook::nats
