#include <boost/json/object.hpp>
#include <brook/nats/specs.hpp>

namespace brook::nats {

// AsyncAPI's NATS binding has only `queue`; the subject and JetStream details go
// in FastStream's custom fields beside it.
void subject::bindings(std::string_view address, boost::json::object& out) const {
  boost::json::object b{{"subject", address}, {"bindingVersion", "custom"}};
  if (!queue.empty())
    b["queue"] = queue;
  out["nats"] = std::move(b);
}

void jetstream::bindings(std::string_view address, boost::json::object& out) const {
  boost::json::object b{{"subject", address},
                        {"stream", stream},
                        {"pull", mode == consumer_mode::pull},
                        {"bindingVersion", "custom"}};
  if (mode == consumer_mode::ordered)
    b["ordered"] = true;
  if (!durable.empty())
    b["durable"] = durable;
  if (!queue.empty())
    b["queue"] = queue;
  out["nats"] = std::move(b);
}

void jetstream_out::bindings(std::string_view address, boost::json::object& out) const {
  boost::json::object b{{"subject", address}, {"bindingVersion", "custom"}};
  if (!stream.empty())
    b["stream"] = stream;
  out["nats"] = std::move(b);
}

void kv_watch::bindings(std::string_view address, boost::json::object& out) const {
  out["nats"] =
      boost::json::object{{"bucket", bucket}, {"keys", address}, {"bindingVersion", "custom"}};
}

}  // namespace brook::nats
