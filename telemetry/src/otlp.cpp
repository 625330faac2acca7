// The OTLP/HTTP JSON encoding of spans (opentelemetry-proto's ExportTraceServiceRequest in its
// JSON mapping: hex ids, 64-bit integers as strings, enum values as numbers).
#include "otlp.hpp"

#include <boost/json.hpp>
#include <brook/asyncapi/server.hpp>
#include <brook/telemetry/tracing.hpp>
#include <charconv>

namespace brook::telemetry {

namespace {

namespace json = boost::json;

json::object any_value(const span_attribute& a) {
  return std::visit(
      [](const auto& v) -> json::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>)
          return {{"stringValue", v}};
        else if constexpr (std::is_same_v<T, bool>)
          return {{"boolValue", v}};
        else
          return {{"intValue", std::to_string(v)}};
      },
      a.value);
}

json::array attributes(const std::vector<span_attribute>& as) {
  json::array out;
  out.reserve(as.size());
  for (auto& a : as)
    out.push_back(json::object{{"key", a.key}, {"value", any_value(a)}});
  return out;
}

json::object span_json(const span_data& s) {
  json::object o{{"traceId", s.trace_id},
                 {"spanId", s.span_id},
                 {"name", s.name},
                 {"kind", static_cast<int>(s.span_kind)},
                 {"startTimeUnixNano", std::to_string(s.start_unix_nano)},
                 {"endTimeUnixNano", std::to_string(s.end_unix_nano)},
                 {"attributes", attributes(s.attributes)}};
  if (!s.parent_span_id.empty())
    o["parentSpanId"] = s.parent_span_id;
  if (!s.trace_state.empty())
    o["traceState"] = s.trace_state;
  if (!s.links.empty()) {
    json::array links;
    for (auto& l : s.links)
      links.push_back(json::object{{"traceId", l.trace_id},
                                   {"spanId", l.span_id},
                                   {"attributes", attributes(l.attributes)}});
    o["links"] = std::move(links);
  }
  if (!s.events.empty()) {
    json::array events;
    for (auto& e : s.events)
      events.push_back(json::object{{"name", e.name},
                                    {"timeUnixNano", std::to_string(e.time_unix_nano)},
                                    {"attributes", attributes(e.attributes)}});
    o["events"] = std::move(events);
  }
  if (s.error)
    o["status"] = json::object{{"code", 2}, {"message", s.status_message}};
  return o;
}

}  // namespace

std::string tracing::otlp_json(const std::vector<span_data>& batch,
                               const std::string& service_name) {
  json::array spans;
  spans.reserve(batch.size());
  for (auto& s : batch)
    spans.push_back(span_json(s));
  json::object resource{
      {"attributes",
       json::array{json::object{{"key", "service.name"},
                                {"value", json::object{{"stringValue", service_name}}}},
                   json::object{{"key", "telemetry.sdk.name"},
                                {"value", json::object{{"stringValue", "brook"}}}},
                   json::object{{"key", "telemetry.sdk.language"},
                                {"value", json::object{{"stringValue", "cpp"}}}}}}};
  json::object scope{{"name", "brook.telemetry"}};
  json::object request{
      {"resourceSpans",
       json::array{
           json::object{{"resource", std::move(resource)},
                        {"scopeSpans", json::array{json::object{{"scope", std::move(scope)},
                                                                {"spans", std::move(spans)}}}}}}}};
  return json::serialize(request);
}

namespace detail {

std::optional<std::string> parse_http_url(const std::string& url, std::string& host,
                                          unsigned short& port) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    return std::nullopt;
  auto rest = std::string_view{url}.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  std::string path =
      slash == std::string_view::npos ? "/v1/traces" : std::string{rest.substr(slash)};
  port = 80;
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    unsigned value = 0;
    auto p = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535)
      return std::nullopt;
    port = static_cast<unsigned short>(value);
    authority = authority.substr(0, colon);
  }
  if (authority.empty())
    return std::nullopt;
  host = std::string{authority};
  return path;
}

bool post_json(const std::string& host, unsigned short port, const std::string& target,
               std::string body, std::chrono::milliseconds timeout) {
  auto r = asyncapi::http_post(host, port, target, std::move(body), "application/json", timeout);
  return r && r->status / 100 == 2;
}

}  // namespace detail
}  // namespace brook::telemetry
