#pragma once
// The routes a running service's HTTP endpoint shares between a single app (app_http.cpp) and a
// fleet's parent (app_fleet.cpp): each answers /health, /ready and /metrics its own way, the
// aliases and the AsyncAPI mount are the same.
#include <boost/json/object.hpp>
#include <brook/asyncapi/server.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace brook::detail {

asyncapi::http_response json_reply(unsigned status, const boost::json::object& body);

struct endpoint_routes {
  std::function<asyncapi::http_response()> health, ready, metrics;
};

/// `/health` (`/healthz`, `/livez`), `/ready` (`/readyz`), `/metrics`, then the AsyncAPI page
/// and documents under `/docs/` and at the root.
asyncapi::http_route make_endpoint_route(endpoint_routes routes,
                                         std::shared_ptr<const asyncapi::docs_handler> docs);

}  // namespace brook::detail
