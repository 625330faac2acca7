#pragma once
/// @file
/// The description of a service that AsyncAPI documents are generated from.
///
/// brook fills a `service_spec` from the app's declarations (brokers,
/// subscribers, publishers, body types); the generator turns it into an
/// AsyncAPI 3.0.0 or 2.6.0 document. The structs are plain data so tools and
/// tests can build one by hand:
/// @code
/// brook::asyncapi::service_spec s;
/// s.info.title = "greeter";
/// s.servers.push_back({.name = "development", .url = "redis://localhost:6379", .protocol =
/// "redis"}); s.operations.push_back({.kind = brook::asyncapi::operation_kind::subscribe,
///                         .address = "user-created", .handler_name = "HandleUser",
///                         .payload = {{"$ref", "#/components/schemas/user_created"}}});
/// @endcode
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace brook::asyncapi {

/// `info` of the document (FastStream's app arguments).
struct info_spec {
  /// Document identifier (a URI such as `urn:example:greeter`), emitted as the root `id`;
  /// omitted when empty.
  std::string identifier;
  std::string title = "brook service";
  std::string version = "0.1.0";
  std::string description;
  std::string contact_name, contact_url, contact_email;
  std::string license_name, license_url;
  std::vector<std::string> tags;
};

/// One broker of the app, as an AsyncAPI server.
struct server_spec {
  std::string name = "development";  ///< key under `servers`
  std::string url;                   ///< without credentials, e.g. `redis://localhost:6379`
  std::string protocol;              ///< `redis`, `nats`, `kafka`, `amqp`, `memory`
  std::string protocol_version;      ///< may be empty
  std::string description;
  /// Security scheme names -> AsyncAPI security scheme objects (from TLS/SASL settings).
  boost::json::object security_schemes;
};

enum class operation_kind {
  subscribe,  ///< the service receives on this channel (a subscriber)
  publish,    ///< the service sends to this channel (a publisher)
};

/// One subscriber or publisher.
struct operation_spec {
  operation_kind kind = operation_kind::subscribe;
  std::string address;       ///< broker address, e.g. `orders.{region}`
  std::string handler_name;  ///< FastStream-style name, e.g. `HandleUser` (subscribers)
  std::string title;         ///< overrides the generated channel name when set
  std::string description;
  bool include_in_schema = true;
  /// Payload JSON Schema; `$ref`s point at `#/components/schemas/<name>`.
  boost::json::value payload;
  /// Name of the body type when it is a single named type. It names the payload schema under
  /// `components.schemas` instead of `"{HandlerName}:Message:Payload"`; unused when `payload`
  /// is already a `$ref`.
  std::string payload_name;
  /// Per-broker channel binding object, e.g. `{"redis": {"channel": "x", "method": "subscribe"}}`.
  boost::json::object bindings;
  /// Per-broker operation binding object, e.g. `{"kafka": {"groupId": {"type": "string"}}}`.
  boost::json::object operation_bindings;
  /// Names of the servers (brokers) this endpoint lives on; empty means every server.
  std::vector<std::string> servers;
  /// Path parameters found in `address` (`{region}`). The generator derives the document's
  /// parameters from `address` itself, since the parser rejects any name that is not exactly a
  /// placeholder of it; this list is for other consumers of the spec.
  std::vector<std::string> parameters;
  /// Headers the message carries beyond correlation_id, as a JSON Schema object (may be null).
  boost::json::value headers;
};

/// Everything the generator needs.
struct service_spec {
  info_spec info;
  std::vector<server_spec> servers;
  std::vector<operation_spec> operations;
  /// Named schemas referenced from payloads: `#/components/schemas/<key>`.
  boost::json::object schemas;
};

}  // namespace brook::asyncapi
