// The HTTP endpoint of a running app (`run --http-port`): liveness, readiness, metrics and
// the AsyncAPI page on one port.
#include "app_http.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "app_signal.hpp"

namespace brook {

asyncapi::http_response detail::json_reply(unsigned status, const boost::json::object& body) {
  return {status, "application/json", boost::json::serialize(body) + "\n"};
}

asyncapi::http_route detail::make_endpoint_route(
    endpoint_routes routes, std::shared_ptr<const asyncapi::docs_handler> docs) {
  return [routes = std::move(routes), docs = std::move(docs)](
             std::string_view target) -> std::optional<asyncapi::http_response> {
    if (target == "/health" || target == "/healthz" || target == "/livez")
      return routes.health();
    if (target == "/ready" || target == "/readyz")
      return routes.ready();
    if (target == "/metrics")
      return routes.metrics();
    if (target == "/docs")
      target = "/";
    else if (target.starts_with("/docs/"))
      target.remove_prefix(5);
    return docs->handle(target);
  };
}

namespace {
using detail::json_reply;

/// What readiness waits for, one entry per broker and subscriber.
boost::json::object readiness(const app& a) {
  boost::json::array brokers, subscribers;
  for (auto& c : a.connections()) {
    boost::json::object b{{"protocol", c.protocol}, {"url", c.url}, {"up", c.up}};
    if (!c.up && !c.last_error.empty())
      b["error"] = c.last_error;
    brokers.push_back(std::move(b));
  }
  for (auto& s : a.stats())
    subscribers.push_back(boost::json::object{
        {"protocol", s.protocol}, {"address", s.address}, {"subscribed", s.subscribed}});
  bool ready = a.ready();
  return {{"status", ready ? "ready" : "not ready"},
          {"brokers", std::move(brokers)},
          {"subscribers", std::move(subscribers)}};
}

}  // namespace

bool app::healthy(std::string* why) const {
  auto fail = [why](std::string text) {
    if (why)
      *why = std::move(text);
    return false;
  };
  if (!rt_)
    return fail("the app is not running");
  if (!signal_->running)
    return true;  // draining on the way out: alive until the drain ends
  if (rt_->escalated())
    return fail("supervision gave up (see the log); the app is stopping");
  if (!rt_->alive(std::chrono::seconds{1}))
    return fail("the supervisor actor did not answer within 1 s: the scheduler is stuck");
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock{watchdog_->mtx};
  for (auto& s : rt_->stats()) {
    auto finished = s.processed + s.failed + s.skipped + s.dropped_total();
    auto& m = watchdog_->marks[s.address];
    if (m.since == std::chrono::steady_clock::time_point{} || m.finished != finished ||
        s.in_flight == 0) {
      m = {finished, now};
      continue;
    }
    if (now - m.since > opts_.stall_after)
      return fail(
          "subscriber '" + s.address + "' holds " + std::to_string(s.in_flight) +
          " message(s) and finished none for " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - m.since).count()) +
          " s (a stuck handler?)");
  }
  return true;
}

unsigned short app::http_port() const noexcept {
  return http_ ? http_->port() : 0;
}

void app::start_http() {
  detail::endpoint_routes routes;
  routes.health = [this] {
    std::string why;
    if (healthy(&why))
      return json_reply(200, {{"status", "ok"}});
    return json_reply(503, {{"status", "unhealthy"}, {"reason", why}});
  };
  routes.ready = [this] { return json_reply(ready() ? 200 : 503, readiness(*this)); };
  routes.metrics = [this] {
    auto text = obs_ ? obs_->exposition() : std::string{};
    if (text.empty())
      return asyncapi::http_response{404, "text/plain; charset=utf-8",
                                     "no metrics here: give the app a metrics observer, "
                                     "app.observe(brook::telemetry::metrics{...}.observer())\n"};
    return asyncapi::http_response{200, "text/plain; version=0.0.4; charset=utf-8",
                                   std::move(text)};
  };
  auto route = detail::make_endpoint_route(
      std::move(routes),
      std::make_shared<const asyncapi::docs_handler>(asyncapi::generate(describe())));
  http_ = std::make_unique<asyncapi::http_server>(std::move(route), opts_.http_host,
                                                  *opts_.http_port, "brook");
  http_->start();
  // A fleet worker tells its parent where its endpoint is (app_fleet.cpp).
  if (const char* file = std::getenv("BROOK_WORKER_PORT_FILE"); file && *file) {
    auto tmp = std::string{file} + ".tmp";
    if (std::ofstream f{tmp}; f << http_->port() << '\n')
      std::rename(tmp.c_str(), file);
  }
  default_logger()->info("HTTP endpoint on http://{}:{}/ (/health, /ready, /metrics, /docs/)",
                         opts_.http_host, http_->port());
}

}  // namespace brook
