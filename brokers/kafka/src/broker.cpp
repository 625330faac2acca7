#include <boost/json/object.hpp>
#include <brook/kafka/broker.hpp>
#include <brook/logger.hpp>

namespace brook::kafka {

namespace {
settings with_bootstrap(std::string bootstrap, settings s) {
  s.bootstrap = std::move(bootstrap);
  // The driver logs nothing itself; the broker turns its events into log lines.
  if (!s.on_event)
    s.on_event = log_driver_events();
  return s;
}
}  // namespace

broker::broker(std::string bootstrap, settings s)
    : brook::broker(make_transport(with_bootstrap(bootstrap, s))),
      settings_(with_bootstrap(std::move(bootstrap), std::move(s))) {}

subscription_spec broker::default_spec(std::string address) const {
  return subscription_spec::of(topic{.name = std::move(address)});
}

asyncapi::server_spec broker::server() const {
  auto s = brook::broker::server();
  s.protocol = "kafka";
  s.url = settings_.bootstrap;
  s.protocol_version = "auto";
  return s;
}

boost::json::object broker::bindings(const detail::publisher_decl& p) const {
  if (!p.driver.empty() && !p.driver.get<topic_out>())
    return brook::broker::bindings(p);
  boost::json::object b{{"topic", p.address}, {"bindingVersion", "0.4.0"}};
  return boost::json::object{{"kafka", std::move(b)}};
}

}  // namespace brook::kafka
