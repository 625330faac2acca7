#include <brook/logger.hpp>
#include <brook/redis/broker.hpp>

#include <spdlog/logger.h>

namespace brook::redis {

namespace {
settings with_url(std::string url, settings s) {
  s.url = std::move(url);
  // The driver logs nothing itself; the broker turns its events into log lines.
  if (!s.on_event)
    s.on_event = [](const error_info& e) {
      auto log = default_logger();
      if (e.code == errc::ok)
        log->info("redis: {}", e.message);
      else
        log->warn("redis: {}", e.to_string());
    };
  return s;
}
}  // namespace

broker::broker(std::string url, settings s)
  : brook::broker(make_transport(with_url(url, s))), settings_(with_url(std::move(url), std::move(s))) {}

subscription_spec broker::default_spec(std::string address) const {
  subscription_spec s;
  s.address = std::move(address);
  s.kind = "channel";
  return s;
}

subscriber_builder broker::subscriber(const channel& c) {
  subscription_spec s;
  s.address = c.name;
  s.pattern = c.pattern;
  s.kind = "channel";
  return brook::router::subscriber(std::move(s));
}

subscriber_builder broker::subscriber(const list& l) {
  subscription_spec s;
  s.address = l.name;
  s.kind = "list";
  if (l.batch)
    s.options["batch"] = std::to_string(l.batch);
  return brook::router::subscriber(std::move(s));
}

subscriber_builder broker::subscriber(const stream& st) {
  subscription_spec s;
  s.address = st.name;
  s.kind = "stream";
  s.group = st.group;
  if (st.batch)
    s.options["batch"] = std::to_string(st.batch);
  if (!st.consumer.empty())
    s.options["consumer"] = st.consumer;
  if (st.no_ack)
    s.options["no_ack"] = "true";
  // Claiming dead consumers' entries is the default wherever entries can be pending.
  auto min_idle = st.min_idle.value_or(
    st.group.empty() || st.no_ack ? std::chrono::milliseconds{0} : std::chrono::milliseconds{60000});
  if (min_idle.count() > 0 || st.min_idle)
    s.options["min_idle_ms"] = std::to_string(min_idle.count());
  if (!st.last_id.empty())
    s.options["last_id"] = st.last_id;
  return brook::router::subscriber(std::move(s));
}

brook::publisher broker::publisher(const list_out& l) {
  return brook::router::publisher(l.name, {{"kind", "list"}});
}

brook::publisher broker::publisher(const stream_out& s) {
  std::map<std::string, std::string> opts{{"kind", "stream"}};
  if (s.maxlen)
    opts["maxlen"] = std::to_string(s.maxlen);
  return brook::router::publisher(s.name, std::move(opts));
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

namespace {
boost::json::object redis_binding(boost::json::object b) {
  b["bindingVersion"] = "custom";
  return boost::json::object{{"redis", std::move(b)}};
}
}  // namespace

boost::json::object broker::bindings(const detail::subscriber_decl& d) const {
  auto& s = d.spec;
  boost::json::object b;
  b["channel"] = s.address;
  if (s.kind == "list") {
    b["method"] = "lpop";
  } else if (s.kind == "stream") {
    b["method"] = s.group.empty() ? "xread" : "xreadgroup";
    if (!s.group.empty())
      b["group_name"] = s.group;
    if (auto c = s.options.find("consumer"); c != s.options.end())
      b["consumer_name"] = c->second;
  } else {
    b["method"] = s.pattern ? "psubscribe" : "subscribe";
  }
  return redis_binding(std::move(b));
}

boost::json::object broker::bindings(const detail::publisher_decl& p) const {
  boost::json::object b;
  b["channel"] = p.address;
  auto k = p.driver.find("kind");
  auto kind = k == p.driver.end() ? std::string{"channel"} : k->second;
  b["method"] = kind == "list" ? "rpush" : kind == "stream" ? "xadd" : "publish";
  return redis_binding(std::move(b));
}

}  // namespace brook::redis
