#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <brook/asyncapi/generator.hpp>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace brook::asyncapi {
namespace {

namespace json = boost::json;

constexpr std::string_view correlation_location = "$message.header#/correlation_id";

// FastStream turns '/' into '.' in channel and component names (so "a/b" stays one readable
// JSON-pointer segment); doing the same keeps names identical to a FastStream service's.
std::string clear_key(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '/', '.');
  return out;
}

void append_percent_encoded(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out += '%';
  out += hex[c >> 4];
  out += hex[c & 0xF];
}

bool is_pointer_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.' || c == '_' || c == '-' || c == '~';
}

// `$ref` values are URI fragments holding a JSON pointer: RFC 6901 escapes '~' and '/', and
// everything a fragment may not contain ('{' of "orders.{region}:Handle", spaces, UTF-8) is
// percent-encoded, as FastStream does, so resolvers find the key again.
json::object ref(std::initializer_list<std::string_view> segments) {
  std::string target = "#";
  for (std::string_view segment : segments) {
    target += '/';
    for (unsigned char c : segment) {
      if (c == '~') {
        target += "~0";
      } else if (c == '/') {
        target += "~1";
      } else if (is_pointer_safe(c)) {
        target += static_cast<char>(c);
      } else {
        append_percent_encoded(target, c);
      }
    }
  }
  return json::object{{"$ref", target}};
}

// The `{name}` placeholders of an address or channel name, first occurrence order.
std::vector<std::string> placeholders(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    std::size_t close = text.find('}', open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    std::string name(text.substr(open + 1, close - open - 1));
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

bool is_varname_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Characters RFC 6570 forbids in the literal part of a URI template.
bool is_template_literal(unsigned char c) {
  constexpr std::string_view forbidden = " \"'%<>\\^`{|}";
  return c > 0x20 && c != 0x7F && forbidden.find(static_cast<char>(c)) == std::string_view::npos;
}

// 2.6 channel names must be URI templates: `{name}` with a plain variable name stays a
// parameter, anything else a template may not hold (spaces, '%', the braces of `{a-b}`, ...)
// becomes '_'. Percent-encoding would be the textbook answer, but the parser decodes channel
// names while resolving `$ref`s and then rejects its own decoded name.
std::string uri_template(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == '{') {
      std::size_t close = name.find('}', i + 1);
      if (close != std::string_view::npos && close > i + 1 &&
          std::all_of(name.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      name.begin() + static_cast<std::ptrdiff_t>(close),
                      [](char v) { return is_varname_char(static_cast<unsigned char>(v)); })) {
        out.append(name.substr(i, close - i + 1));
        i = close;
        continue;
      }
    }
    out += is_template_literal(c) ? static_cast<char>(c) : '_';
  }
  return out;
}

struct url_parts {
  std::string scheme;
  std::string host;      ///< host[:port]
  std::string pathname;  ///< "" or "/..."
  std::string url;       ///< scheme://host/path, without user info and query
};

// Credentials (user info) and the query (which may hold `?password=`) never reach a document
// that is published for readers, even when the settings passed a URL that has them.
url_parts split_url(std::string_view url) {
  url_parts parts;
  std::size_t scheme_end = url.find("://");
  std::string_view rest = url;
  if (scheme_end != std::string_view::npos) {
    parts.scheme = std::string(url.substr(0, scheme_end));
    rest = url.substr(scheme_end + 3);
  }
  std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view tail = rest.substr(authority_end);
  std::string_view path = tail.substr(0, std::min(tail.find_first_of("?#"), tail.size()));
  parts.host = std::string(authority);
  parts.pathname = std::string(path);
  parts.url = parts.scheme.empty() ? parts.host + parts.pathname
                                   : parts.scheme + "://" + parts.host + parts.pathname;
  return parts;
}

// One included subscriber or publisher with the names both versions derive from it.
struct endpoint {
  const operation_spec* op;
  std::string channel;  ///< raw channel name: title, "{address}:{Handler}" or "{address}:Publisher"
  std::string prefix;   ///< payload schema prefix: "{Handler}" for subscribers, else `channel`
  std::vector<std::string> servers;
  bool receives() const { return op->kind == operation_kind::subscribe; }
};

std::vector<endpoint> collect_endpoints(const service_spec& s) {
  std::vector<std::string> all_servers;
  for (const server_spec& server : s.servers) {
    all_servers.push_back(server.name);
  }
  std::vector<endpoint> endpoints;
  for (const operation_spec& op : s.operations) {
    if (!op.include_in_schema) {
      continue;
    }
    endpoint ep{.op = &op, .channel = {}, .prefix = {}, .servers = all_servers};
    if (!op.title.empty()) {
      ep.channel = op.title;
      ep.prefix = op.title;
    } else if (op.kind == operation_kind::publish) {
      ep.channel = op.address + ":Publisher";
      ep.prefix = ep.channel;
    } else if (op.handler_name.empty()) {
      ep.channel = op.address;
      ep.prefix = op.address;
    } else {
      ep.channel = op.address + ":" + op.handler_name;
      ep.prefix = op.handler_name;
    }
    if (!op.servers.empty()) {
      for (const std::string& name : op.servers) {
        if (std::find(all_servers.begin(), all_servers.end(), name) == all_servers.end()) {
          throw std::invalid_argument("asyncapi: channel '" + ep.channel + "' names server '" +
                                      name +
                                      "', which is not in service_spec::servers; add the server "
                                      "or fix the name");
        }
      }
      ep.servers = op.servers;
    }
    endpoints.push_back(std::move(ep));
  }
  return endpoints;
}

// Operation (3.0) and operationId (2.6) name, FastStream's: a titled subscriber keeps its title.
std::string operation_key(const endpoint& ep) {
  std::string key = clear_key(ep.channel);
  if (ep.receives() && ep.op->title.empty()) {
    key += "Subscribe";
  }
  return key;
}

// Inline payloads move to components.schemas so every message shows a named schema; a `$ref`
// payload already names one. The first schema registered under a name wins, which keeps
// user-supplied `service_spec::schemas` authoritative.
json::object payload_ref(const endpoint& ep, json::object& schemas) {
  const json::value& payload = ep.op->payload;
  if (const json::object* obj = payload.if_object();
      obj && obj->size() == 1 && obj->contains("$ref")) {
    return *obj;
  }
  std::string name =
      clear_key(ep.op->payload_name.empty() ? ep.prefix + ":Message:Payload" : ep.op->payload_name);
  if (!schemas.contains(name)) {
    json::value schema = payload;
    if (schema.is_null()) {
      schema = json::object{};
    }
    if (json::object* obj = schema.if_object(); obj && !obj->contains("title")) {
      json::object titled{{"title", name}};
      for (const auto& member : *obj) {
        titled.emplace(member.key(), member.value());
      }
      schema = std::move(titled);
    }
    schemas.emplace(name, std::move(schema));
  }
  return ref({"components", "schemas", name});
}

// `headers` describes the headers beyond correlation_id; the correlationId location points into
// the headers, so the schema lists correlation_id too when the service declares headers at all.
json::value headers_schema(const json::value& headers) {
  json::value out = headers;
  if (json::object* obj = out.if_object()) {
    json::value& properties = (*obj)["properties"];
    if (properties.is_null()) {
      properties = json::object{};
    }
    if (json::object* props = properties.if_object(); props && !props->contains("correlation_id")) {
      props->emplace("correlation_id",
                     json::object{{"type", "string"},
                                  {"description", "Correlates a reply with its request."}});
    }
    if (!obj->contains("type")) {
      obj->emplace("type", "object");
    }
  }
  return out;
}

json::object message(const endpoint& ep, std::string_view title, std::string_view message_id,
                     json::object& schemas) {
  json::object m;
  m.emplace("title", title);
  if (!message_id.empty()) {
    m.emplace("messageId", message_id);
  }
  m.emplace("correlationId", json::object{{"location", correlation_location}});
  if (!ep.op->headers.is_null()) {
    m.emplace("headers", headers_schema(ep.op->headers));
  }
  m.emplace("payload", payload_ref(ep, schemas));
  return m;
}

json::array tags(const info_spec& i) {
  json::array out;
  for (const std::string& tag : i.tags) {
    out.push_back(json::object{{"name", tag}});
  }
  return out;
}

// 3.0 moved the tags into info; 2.6 keeps them at the root (see generate()).
json::object info(const info_spec& i, spec_version v) {
  json::object out;
  out.emplace("title", i.title);
  out.emplace("version", i.version);
  if (!i.description.empty()) {
    out.emplace("description", i.description);
  }
  json::object contact;
  if (!i.contact_name.empty()) {
    contact.emplace("name", i.contact_name);
  }
  if (!i.contact_url.empty()) {
    contact.emplace("url", i.contact_url);
  }
  if (!i.contact_email.empty()) {
    contact.emplace("email", i.contact_email);
  }
  if (!contact.empty()) {
    out.emplace("contact", std::move(contact));
  }
  if (!i.license_name.empty()) {
    json::object license{{"name", i.license_name}};
    if (!i.license_url.empty()) {
      license.emplace("url", i.license_url);
    }
    out.emplace("license", std::move(license));
  }
  if (v == spec_version::v3_0_0 && !i.tags.empty()) {
    out.emplace("tags", tags(i));
  }
  return out;
}

json::object servers(const service_spec& s, spec_version v, json::object& security_schemes) {
  json::object out;
  for (const server_spec& server : s.servers) {
    url_parts url = split_url(server.url);
    json::object obj;
    if (v == spec_version::v3_0_0) {
      obj.emplace("host", url.host);
      if (!url.pathname.empty()) {
        obj.emplace("pathname", url.pathname);
      }
    } else {
      obj.emplace("url", url.url);
    }
    obj.emplace("protocol", server.protocol.empty() ? url.scheme : server.protocol);
    if (!server.protocol_version.empty()) {
      obj.emplace("protocolVersion", server.protocol_version);
    }
    if (!server.description.empty()) {
      obj.emplace("description", server.description);
    }
    if (!server.security_schemes.empty()) {
      json::array security;
      for (const auto& scheme : server.security_schemes) {
        security_schemes.emplace(scheme.key(), scheme.value());
        if (v == spec_version::v3_0_0) {
          security.push_back(ref({"components", "securitySchemes", scheme.key()}));
        } else {
          security.push_back(json::object{{scheme.key(), json::array{}}});
        }
      }
      obj.emplace("security", std::move(security));
    }
    out.emplace(server.name, std::move(obj));
  }
  return out;
}

struct components {
  json::object messages;
  json::object schemas;
  json::object security_schemes;

  /// The `components` object; empty sections are left out. Consumes the members.
  json::object take() {
    json::object out;
    if (!messages.empty()) {
      out.emplace("messages", std::move(messages));
    }
    if (!schemas.empty()) {
      out.emplace("schemas", std::move(schemas));
    }
    if (!security_schemes.empty()) {
      out.emplace("securitySchemes", std::move(security_schemes));
    }
    return out;
  }
};

void add_v3(const std::vector<endpoint>& endpoints, json::object& doc, components& comp) {
  json::object channels;
  json::object operations;
  for (const endpoint& ep : endpoints) {
    std::string key = clear_key(ep.channel);
    if (channels.contains(key)) {
      continue;
    }
    std::string_view local = ep.receives() ? "SubscribeMessage" : "Message";
    std::string message_key = key + ":" + std::string(local);
    comp.messages.emplace(message_key,
                          message(ep, ep.channel + ":" + std::string(local), {}, comp.schemas));

    json::object channel;
    channel.emplace("address", ep.op->address);
    if (!ep.op->description.empty()) {
      channel.emplace("description", ep.op->description);
    }
    if (!ep.servers.empty()) {
      json::array refs;
      for (const std::string& name : ep.servers) {
        refs.push_back(ref({"servers", name}));
      }
      channel.emplace("servers", std::move(refs));
    }
    channel.emplace("messages",
                    json::object{{local, ref({"components", "messages", message_key})}});
    // Exactly the placeholders of the address: the parser rejects both undeclared and
    // redundant parameters.
    if (std::vector<std::string> names = placeholders(ep.op->address); !names.empty()) {
      json::object parameters;
      for (const std::string& name : names) {
        parameters.emplace(name, json::object{});
      }
      channel.emplace("parameters", std::move(parameters));
    }
    if (!ep.op->bindings.empty()) {
      channel.emplace("bindings", ep.op->bindings);
    }
    channels.emplace(key, std::move(channel));

    json::object operation;
    operation.emplace("action", ep.receives() ? "receive" : "send");
    operation.emplace("channel", ref({"channels", key}));
    operation.emplace("messages", json::array{ref({"channels", key, "messages", local})});
    if (!ep.op->operation_bindings.empty()) {
      operation.emplace("bindings", ep.op->operation_bindings);
    }
    operations.emplace(operation_key(ep), std::move(operation));
  }
  doc.emplace("channels", std::move(channels));
  doc.emplace("operations", std::move(operations));
}

void add_v2(const std::vector<endpoint>& endpoints, json::object& doc, components& comp) {
  json::object channels;
  for (const endpoint& ep : endpoints) {
    // 2.6 channel names are paths, so FastStream keeps '/' in them; only component names change.
    std::string key = uri_template(ep.channel);
    if (channels.contains(key)) {
      continue;
    }
    std::string message_key = clear_key(ep.channel) + ":Message";
    comp.messages.emplace(message_key,
                          message(ep, ep.channel + ":Message", message_key, comp.schemas));

    json::object channel;
    if (!ep.op->description.empty()) {
      channel.emplace("description", ep.op->description);
    }
    if (!ep.servers.empty()) {
      json::array names;
      for (const std::string& name : ep.servers) {
        names.push_back(json::string(name));
      }
      channel.emplace("servers", std::move(names));
    }
    if (!ep.op->bindings.empty()) {
      channel.emplace("bindings", ep.op->bindings);
    }
    // 2.6 parameters must match the placeholders of the channel name exactly (a titled channel
    // has none), or the parser reports them as missing or redundant.
    if (std::vector<std::string> names = placeholders(key); !names.empty()) {
      json::object parameters;
      for (const std::string& name : names) {
        parameters.emplace(name, json::object{{"schema", json::object{{"type", "string"}}}});
      }
      channel.emplace("parameters", std::move(parameters));
    }
    json::object operation;
    operation.emplace("operationId", operation_key(ep));
    if (!ep.op->operation_bindings.empty()) {
      operation.emplace("bindings", ep.op->operation_bindings);
    }
    operation.emplace("message", ref({"components", "messages", message_key}));
    // 2.6 describes the operation a client performs: it publishes what the service receives.
    channel.emplace(ep.receives() ? "publish" : "subscribe", std::move(operation));
    channels.emplace(key, std::move(channel));
  }
  doc.emplace("channels", std::move(channels));
}

}  // namespace

std::string_view version_string(spec_version v) noexcept {
  return v == spec_version::v3_0_0 ? "3.0.0" : "2.6.0";
}

boost::json::value generate(const service_spec& s, spec_version v) {
  std::vector<endpoint> endpoints = collect_endpoints(s);
  components comp;
  comp.schemas = s.schemas;

  json::object doc;
  doc.emplace("asyncapi", version_string(v));
  if (!s.info.identifier.empty()) {
    doc.emplace("id", s.info.identifier);
  }
  doc.emplace("info", info(s.info, v));
  if (v == spec_version::v2_6_0 && !s.info.tags.empty()) {
    doc.emplace("tags", tags(s.info));
  }
  doc.emplace("defaultContentType", "application/json");
  if (json::object srv = servers(s, v, comp.security_schemes); !srv.empty()) {
    doc.emplace("servers", std::move(srv));
  }
  if (v == spec_version::v3_0_0) {
    add_v3(endpoints, doc, comp);
  } else {
    add_v2(endpoints, doc, comp);
  }
  if (json::object c = comp.take(); !c.empty()) {
    doc.emplace("components", std::move(c));
  }
  return doc;
}

}  // namespace brook::asyncapi
