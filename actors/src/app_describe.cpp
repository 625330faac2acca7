// brook::app::describe: the service as AsyncAPI sees it (channels, operations,
// payload schemas), assembled from the brokers' declarations.
#include <algorithm>
#include <boost/json/value.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <set>

#include "broker_core.hpp"

namespace brook {

asyncapi::service_spec app::describe() const {
  asyncapi::service_spec s;
  s.info.identifier = info_.identifier;
  s.info.title = info_.title;
  s.info.version = info_.version;
  s.info.description = info_.description;
  s.info.contact_name = info_.contact_name;
  s.info.contact_url = info_.contact_url;
  s.info.contact_email = info_.contact_email;
  s.info.license_name = info_.license_name;
  s.info.license_url = info_.license_url;
  s.info.tags = info_.tags;
  codec::schema_registry schemas{"#/components/schemas/"};
  // One schema, or oneOf the distinct ones; FastStream names unnamed payloads
  // after the endpoint, so payload_name stays empty (struct bodies are $refs).
  auto payload_of = [](std::vector<boost::json::value> xs) -> boost::json::value {
    std::vector<boost::json::value> unique;
    for (auto& v : xs)
      if (std::find(unique.begin(), unique.end(), v) == unique.end())
        unique.push_back(std::move(v));
    if (unique.empty())
      return boost::json::object{};
    if (unique.size() == 1)
      return std::move(unique.front());
    return boost::json::object{{"oneOf", boost::json::array(unique.begin(), unique.end())}};
  };
  auto server_name = [&](std::size_t i) {
    return brokers_.size() == 1 ? std::string{"development"} : "development-" + std::to_string(i);
  };
  // Pass 1: what handlers return, per publisher, across every broker.
  std::map<const detail::publisher_decl*, std::vector<boost::json::value>> results;
  for (auto& bref : brokers_)
    for (auto& d : bref.get().subscriber_decls())
      for (auto& h : d->handlers)
        if (auto& info = h.handler->info(); info.result_schema)
          for (auto& p : d->publishers)
            results[p.get()].push_back(info.result_schema(schemas));
  // Pass 2: servers, subscribers, then publishers (merged per channel).
  for (std::size_t n = 0; n < brokers_.size(); ++n) {
    auto& b = brokers_[n].get();
    auto server = b.server();
    server.name = server_name(n);
    s.servers.push_back(server);
    for (auto& d : b.subscriber_decls()) {
      asyncapi::operation_spec op;
      op.kind = asyncapi::operation_kind::subscribe;
      op.servers = {server.name};
      op.address = d->spec.address;
      op.handler_name = d->name;
      op.title = d->title;
      op.description = d->description;
      op.include_in_schema = d->include_in_schema;
      op.bindings = b.bindings(*d);
      for (auto& [k, v] : d->bindings)
        op.bindings[k] = v;
      std::vector<boost::json::value> bodies;
      std::set<std::string> header_names;
      for (auto& h : d->handlers) {
        auto& info = h.handler->info();
        if (info.body_schema)
          bodies.push_back(info.body_schema(schemas));
        header_names.insert(info.header_names.begin(), info.header_names.end());
      }
      op.payload = payload_of(std::move(bodies));
      if (!header_names.empty()) {
        boost::json::object props;
        for (auto& h : header_names)
          props[h] = boost::json::object{{"type", "string"}};
        op.headers = boost::json::object{{"type", "object"}, {"properties", props}};
      }
      s.operations.push_back(std::move(op));
    }
    std::map<std::string, std::size_t> by_channel;  // several decls may share an address
    std::map<std::size_t, std::vector<boost::json::value>> payloads;
    for (auto& p : b.publisher_decls()) {
      auto key = p->title.empty() ? p->address : p->title;
      auto [it, fresh] = by_channel.emplace(key, s.operations.size());
      if (fresh) {
        asyncapi::operation_spec op;
        op.kind = asyncapi::operation_kind::publish;
        op.servers = {server.name};
        op.address = p->address;
        op.title = p->title;
        op.description = p->description;
        op.include_in_schema = p->include_in_schema;
        op.bindings = b.bindings(*p);
        s.operations.push_back(std::move(op));
      }
      auto& op = s.operations[it->second];
      for (auto& [k, v] : p->bindings)
        op.bindings[k] = v;
      if (op.description.empty())
        op.description = p->description;
      // An explicitly declared payload replaces what the handlers' return types imply.
      auto& xs = payloads[it->second];
      if (!p->schemas.empty())
        for (auto& f : p->schemas)
          xs.push_back(f(schemas));
      else
        for (auto& v : results[p.get()])
          xs.push_back(v);
    }
    for (auto& [idx, xs] : payloads)
      s.operations[idx].payload = payload_of(std::move(xs));
  }
  s.schemas = schemas.definitions();
  return s;
}

}  // namespace brook
