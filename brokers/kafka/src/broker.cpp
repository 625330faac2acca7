#include <boost/json/object.hpp>
#include <brook/kafka/broker.hpp>
#include <brook/logger.hpp>

#include "client.hpp"
#include "emulation.hpp"

namespace brook::kafka {

namespace {
settings with_bootstrap(std::string bootstrap, settings s) {
  s.bootstrap = std::move(bootstrap);
  // The driver logs nothing itself; the broker turns its events into log lines.
  if (!s.on_event)
    s.on_event = log_driver_events();
  return s;
}
error_info seek_by(const std::shared_ptr<transport>& t, seek_request r) {
  if (auto emulated = emulated_seek(t->underlying(), r))
    return *emulated;  // the test broker
  auto cl = client_of(t);
  if (!cl)
    return {errc::invalid_argument,
            "kafka: seeking '" + r.topic + "' needs the broker on Kafka or the test broker"};
  if (cl->seek(r) == 0)
    return {errc::not_found, "kafka: no running subscription of this broker reads '" + r.topic +
                                 "'; seek once the app has started"};
  return {};
}
}  // namespace

error_info broker::seek(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  return seek_by(get_transport(), {std::string{topic}, partition, offset, false});
}

error_info broker::seek_to_time(std::string_view topic, std::int32_t partition,
                                std::int64_t timestamp_ms) {
  return seek_by(get_transport(), {std::string{topic}, partition, timestamp_ms, true});
}

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
