#pragma once
/// @file
/// AsyncAPI document generation from a `service_spec`, and its JSON/YAML text forms.
///
/// The document follows FastStream's layout so a FastStream user finds familiar names
/// (see docs/asyncapi.md for the full mapping):
/// - a subscriber becomes channel `"{address}:{HandlerName}"` and operation
///   `"{address}:{HandlerName}Subscribe"` (action `receive`);
/// - a publisher becomes channel and operation `"{address}:Publisher"` (action `send`);
/// - a non-empty `title` replaces the generated channel (and operation) name;
/// - every message is a component carrying `correlationId` at `$message.header#/correlation_id`;
/// - inline payloads become `components.schemas["{HandlerName}:Message:Payload"]`
///   (or `payload_name` when set); `$ref` payloads are kept as they are.
///
/// Output is deterministic: the same spec always yields the same key order and text, so
/// generated documents can be committed and diffed.
/// @code
/// namespace aa = brook::asyncapi;
/// aa::service_spec s;
/// s.info.title = "greeter";
/// s.servers.push_back({.name = "development", .url = "redis://localhost:6379", .protocol =
/// "redis"}); s.operations.push_back({.kind = aa::operation_kind::subscribe, .address =
/// "user-created",
///                         .handler_name = "HandleUser", .payload = {{"type", "string"}}});
/// boost::json::value doc = aa::generate(s);              // AsyncAPI 3.0.0
/// std::string yaml = aa::to_yaml(aa::generate(s, aa::spec_version::v2_6_0));
/// std::string json = aa::to_json_text(doc);
/// @endcode
#include <boost/json/value.hpp>
#include <brook/asyncapi/spec.hpp>
#include <string>
#include <string_view>

namespace brook::asyncapi {

/// AsyncAPI specification version of the generated document.
enum class spec_version {
  v3_0_0,  ///< AsyncAPI 3.0.0 (default): channels, operations and messages are separate objects
  v2_6_0,  ///< AsyncAPI 2.6.0: operations nested in channels as `publish`/`subscribe`
};

/// The version string written to the document's `asyncapi` field, e.g. `"3.0.0"`.
std::string_view version_string(spec_version v) noexcept;

/// Builds the AsyncAPI document for `s`.
///
/// Operations with `include_in_schema == false` are left out. When two operations map to the
/// same channel name the first one wins; give them distinct `title`s to keep both.
/// @throws std::invalid_argument if an operation names a server that `s.servers` lacks.
boost::json::value generate(const service_spec& s, spec_version v = spec_version::v3_0_0);

/// JSON text with 2-space indentation and a trailing newline; keys keep their insertion order,
/// so equal inputs give byte-identical text. Non-ASCII text is written as UTF-8, not escaped.
std::string to_json_text(const boost::json::value& v);

/// Block-style YAML (1.2, also read correctly by YAML 1.1 parsers) with 2-space indentation.
/// Strings that a YAML parser could read as anything but the same string (`yes`, `1.0`,
/// `null`, `#/components/...`, text with `: `, line breaks, ...) are double-quoted.
std::string to_yaml(const boost::json::value& v);

}  // namespace brook::asyncapi
