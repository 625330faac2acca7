// The OTLP/HTTP JSON encoding of spans (opentelemetry-proto's ExportTraceServiceRequest in its
// JSON mapping: hex ids, 64-bit integers as strings, enum values as numbers).
#include "otlp.hpp"

#include <brook/asyncapi/server.hpp>
#include <brook/codec.hpp>  // the codec's JSON writers (brook::detail::codec)
#include <brook/telemetry/tracing.hpp>
#include <charconv>

namespace brook::telemetry {

namespace {

// Written directly with the codec's JSON writers, without a DOM: tracing encodes every span it
// exports, so this is on the exporter thread's hot path (a JSON DOM per span cost several
// times more).
using brook::detail::codec::write_integer;
using brook::detail::codec::write_string;

template <class I>
void number_string(std::string& out, I v) {  // OTLP's 64-bit integers are strings
  out.push_back('"');
  write_integer(out, v);
  out.push_back('"');
}

/// `key` (`,"name":`, with its separator) and a JSON string.
void string_field(std::string& out, const char* key, std::string_view v) {
  out.append(key);
  write_string(out, v);
}
/// `key` and one of OTLP's 64-bit integers (a string).
template <class I>
void number_field(std::string& out, const char* key, I v) {
  out.append(key);
  number_string(out, v);
}

void attributes(std::string& out, const std::vector<span_attribute>& as) {
  out.push_back('[');
  for (std::size_t i = 0; i < as.size(); ++i) {
    auto& a = as[i];
    out.append(i ? ",{\"key\":" : "{\"key\":");
    write_string(out, a.key);
    out.append(",\"value\":{");
    if (auto* str = std::get_if<std::string>(&a.value)) {
      out.append("\"stringValue\":");
      write_string(out, *str);
    } else if (auto* b = std::get_if<bool>(&a.value)) {
      out.append(*b ? "\"boolValue\":true" : "\"boolValue\":false");
    } else {
      out.append("\"intValue\":");
      number_string(out, std::get<std::int64_t>(a.value));
    }
    out.append("}}");
  }
  out.push_back(']');
}

/// `,"key":[{...},...]` with `write(out, item)` writing each object's fields; nothing if empty.
template <class T, class F>
void object_list(std::string& out, const char* key, const std::vector<T>& items, F write) {
  if (items.empty())
    return;
  out.append(",\"").append(key).append("\":[");
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.append(i ? ",{" : "{");
    write(out, items[i]);
    out.push_back('}');
  }
  out.push_back(']');
}

void span_json(std::string& out, const span_data& s) {
  string_field(out, "{\"traceId\":", s.trace_id);
  string_field(out, ",\"spanId\":", s.span_id);
  if (!s.parent_span_id.empty())
    string_field(out, ",\"parentSpanId\":", s.parent_span_id);
  if (!s.trace_state.empty())
    string_field(out, ",\"traceState\":", s.trace_state);
  string_field(out, ",\"name\":", s.name);
  out.append(",\"kind\":");
  write_integer(out, static_cast<int>(s.span_kind));
  number_field(out, ",\"startTimeUnixNano\":", s.start_unix_nano);
  number_field(out, ",\"endTimeUnixNano\":", s.end_unix_nano);
  out.append(",\"attributes\":");
  attributes(out, s.attributes);
  object_list(out, "links", s.links, [](std::string& o, const span_data::link& l) {
    string_field(o, "\"traceId\":", l.trace_id);
    string_field(o, ",\"spanId\":", l.span_id);
    o.append(",\"attributes\":");
    attributes(o, l.attributes);
  });
  object_list(out, "events", s.events, [](std::string& o, const span_data::event& e) {
    string_field(o, "\"name\":", e.name);
    number_field(o, ",\"timeUnixNano\":", e.time_unix_nano);
    o.append(",\"attributes\":");
    attributes(o, e.attributes);
  });
  if (s.error) {
    out.append(",\"status\":{\"code\":2,\"message\":");
    write_string(out, s.status_message);
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace

std::string tracing::otlp_json(const std::vector<span_data>& batch,
                               const std::string& service_name) {
  std::string out;
  out.reserve(256 + batch.size() * 640);
  out.append(
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
      "{\"key\":\"service.name\",\"value\":{\"stringValue\":");
  write_string(out, service_name);
  out.append(
      "}},{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"brook\"}},"
      "{\"key\":\"telemetry.sdk.language\",\"value\":{\"stringValue\":\"cpp\"}}]},"
      "\"scopeSpans\":[{\"scope\":{\"name\":\"brook.telemetry\"},\"spans\":[");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i)
      out.push_back(',');
    span_json(out, batch[i]);
  }
  out.append("]}]}]}");
  return out;
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
