#include <boost/json/object.hpp>
#include <brook/redis/specs.hpp>

namespace brook::redis {

namespace {
// Redis has no AsyncAPI binding of its own yet: FastStream's custom one.
void redis_binding(boost::json::object& out, std::string_view address, std::string_view method,
                   boost::json::object extra = {}) {
  boost::json::object b{{"channel", address}, {"method", method}};
  for (auto& [k, v] : extra)
    b[k] = v;
  b["bindingVersion"] = "custom";
  out["redis"] = std::move(b);
}
}  // namespace

void channel::bindings(std::string_view address, boost::json::object& out) const {
  redis_binding(out, address, pattern ? "psubscribe" : "subscribe");
}

void list::bindings(std::string_view address, boost::json::object& out) const {
  redis_binding(out, address, "lpop");
}

void stream::bindings(std::string_view address, boost::json::object& out) const {
  if (group.empty())
    return redis_binding(out, address, "xread");
  boost::json::object extra{{"group_name", group}};
  if (!consumer.empty())
    extra["consumer_name"] = consumer;
  redis_binding(out, address, "xreadgroup", std::move(extra));
}

void list_out::bindings(std::string_view address, boost::json::object& out) const {
  redis_binding(out, address, "rpush");
}

void stream_out::bindings(std::string_view address, boost::json::object& out) const {
  redis_binding(out, address, "xadd");
}

}  // namespace brook::redis
