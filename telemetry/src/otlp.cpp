// The OTLP/HTTP JSON encoding of spans (opentelemetry-proto's ExportTraceServiceRequest in its
// JSON mapping: hex ids, 64-bit integers as strings, enum values as numbers).
#include "otlp.hpp"

#include <brook/asyncapi/server.hpp>
#include <brook/telemetry/tracing.hpp>
#include <charconv>

namespace brook::telemetry {

namespace {

// Written directly, without a DOM: tracing encodes every span it exports, so this is on the
// exporter thread's hot path (a JSON DOM per span cost several times more).
void quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // the start of the run of bytes copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\')
      continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (u < 0x20) {
      const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 0xf]};
      out.append(esc, sizeof esc);
    } else {
      out.push_back('\\');
      out.push_back(s[i]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void number_string(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.push_back('"');
  out.append(buf, end);
  out.push_back('"');
}

void attributes(std::string& out, const std::vector<span_attribute>& as) {
  out.append("[");
  bool first = true;
  for (auto& a : as) {
    if (!first)
      out.push_back(',');
    first = false;
    out.append("{\"key\":");
    quoted(out, a.key);
    out.append(",\"value\":{");
    if (auto* str = std::get_if<std::string>(&a.value)) {
      out.append("\"stringValue\":");
      quoted(out, *str);
    } else if (auto* b = std::get_if<bool>(&a.value)) {
      out.append(*b ? "\"boolValue\":true" : "\"boolValue\":false");
    } else {
      auto v = std::get<std::int64_t>(a.value);
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
      (void)ec;
      out.append("\"intValue\":\"");
      out.append(buf, end);
      out.push_back('"');
    }
    out.append("}}");
  }
  out.append("]");
}

void span_json(std::string& out, const span_data& s) {
  out.append("{\"traceId\":");
  quoted(out, s.trace_id);
  out.append(",\"spanId\":");
  quoted(out, s.span_id);
  if (!s.parent_span_id.empty()) {
    out.append(",\"parentSpanId\":");
    quoted(out, s.parent_span_id);
  }
  if (!s.trace_state.empty()) {
    out.append(",\"traceState\":");
    quoted(out, s.trace_state);
  }
  out.append(",\"name\":");
  quoted(out, s.name);
  out.append(",\"kind\":");
  out.push_back(static_cast<char>('0' + static_cast<int>(s.span_kind)));
  out.append(",\"startTimeUnixNano\":");
  number_string(out, s.start_unix_nano);
  out.append(",\"endTimeUnixNano\":");
  number_string(out, s.end_unix_nano);
  out.append(",\"attributes\":");
  attributes(out, s.attributes);
  if (!s.links.empty()) {
    out.append(",\"links\":[");
    for (std::size_t i = 0; i < s.links.size(); ++i) {
      auto& l = s.links[i];
      out.append(i ? ",{\"traceId\":" : "{\"traceId\":");
      quoted(out, l.trace_id);
      out.append(",\"spanId\":");
      quoted(out, l.span_id);
      out.append(",\"attributes\":");
      attributes(out, l.attributes);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (!s.events.empty()) {
    out.append(",\"events\":[");
    for (std::size_t i = 0; i < s.events.size(); ++i) {
      auto& e = s.events[i];
      out.append(i ? ",{\"name\":" : "{\"name\":");
      quoted(out, e.name);
      out.append(",\"timeUnixNano\":");
      number_string(out, e.time_unix_nano);
      out.append(",\"attributes\":");
      attributes(out, e.attributes);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (s.error) {
    out.append(",\"status\":{\"code\":2,\"message\":");
    quoted(out, s.status_message);
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
  quoted(out, service_name);
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
