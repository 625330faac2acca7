#include <boost/json/object.hpp>
#include <brook/kafka/specs.hpp>

namespace brook::kafka {

// AsyncAPI's Kafka channel binding (0.4.0): the topic. The group and the key belong to
// the operation's and the message's bindings, which the document does not carry yet.
void topic::bindings(std::string_view address, boost::json::object& out) const {
  out["kafka"] = boost::json::object{{"topic", address}, {"bindingVersion", "0.4.0"}};
}

void topic_out::bindings(std::string_view address, boost::json::object& out) const {
  out["kafka"] = boost::json::object{{"topic", address}, {"bindingVersion", "0.4.0"}};
}

}  // namespace brook::kafka
