#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <brook/kafka/specs.hpp>

namespace brook::kafka {

// AsyncAPI's Kafka bindings: the operation's groupId (and clientId), the channel's
// topic; FastStream's custom fields beside them for what the binding has no word for.
void topic::bindings(std::string_view address, boost::json::object& out) const {
  boost::json::object b{{"topic", address}, {"bindingVersion", "0.4.0"}};
  if (!group.empty())
    b["groupId"] = boost::json::object{{"type", "string"}, {"enum", boost::json::array{group}}};
  out["kafka"] = std::move(b);
}

void topic_out::bindings(std::string_view address, boost::json::object& out) const {
  boost::json::object b{{"topic", address}, {"bindingVersion", "0.4.0"}};
  if (!key.empty())
    b["key"] = boost::json::object{{"type", "string"}, {"enum", boost::json::array{key}}};
  out["kafka"] = std::move(b);
}

}  // namespace brook::kafka
