#pragma once
/// @file
/// Typed message bodies: JSON decoding with field-path errors, encoding,
/// FastStream's body/content-type rules and JSON Schema for AsyncAPI.
///
/// A message type is a plain struct described once with Boost.Describe; the
/// codec derives everything else from that description:
/// @code
/// namespace shop {
/// enum class status { pending, paid };
/// BOOST_DESCRIBE_ENUM(status, pending, paid)
/// struct line_item { std::string sku; std::int32_t qty = 0; };
/// BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty))
/// struct order { std::string id; status state{}; std::vector<line_item> items;
///                std::optional<std::string> note; };
/// BOOST_DESCRIBE_STRUCT(order, (), (id, state, items, note))
/// }
///
/// shop::order o;
/// if (auto err = brook::codec::parse(R"({"id":"o-1","state":"paid","items":[]})", o))
///   log(err->to_string());  // e.g. "$.items[1].qty: expected integer, got string"
/// auto [data, content_type] = brook::codec::encode_body(o);  // compact JSON, "application/json"
/// boost::json::value schema = brook::codec::json_schema<shop::order>();
/// @endcode
///
/// Supported shapes (see `is_body_v`): described structs (public members,
/// described bases included), described enums (as their names), `bool`,
/// integers (range-checked), `float`/`double`, `std::string`, `brook::bytes`,
/// `boost::json::value`, and `std::vector`, `std::optional`,
/// `std::map<std::string, U>` of those.
///
/// Decoding is tolerant by default, so producers can add fields: unknown keys
/// are ignored, and an absent or `null` optional member becomes `nullopt`.
/// Every non-optional member is required, even when it has a default member
/// initializer; make it `std::optional` to let producers omit it.
///
/// Wire rules inside JSON: integers must be JSON integers (`2.0` is rejected
/// for an `int`); `brook::bytes` members travel as JSON strings of their
/// content, like pydantic's default (binary that is not UTF-8 needs a
/// `std::string` member carrying e.g. base64); non-finite doubles are written
/// as `null`. Boost 1.81's parser reads doubles of up to 15 significant digits
/// exactly; longer ones may come back one ULP off (later Boost.JSON versions
/// add an opt-in precise mode).
#include <atomic>
#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace brook {

/// A raw body, passed through without any encoding.
using bytes = std::vector<std::byte>;

/// Why a body could not be decoded, and where.
struct decode_error {
  /// JSONPath of the offending value: `$`, `$.items[1].qty`, `$.prices["eur"]`
  /// (map keys are always bracketed and JSON-quoted; unknown fields use
  /// `.name`, or `["name"]` when the key is not an identifier).
  std::string path;
  /// What is wrong, e.g. `expected integer, got string`.
  std::string message;
  /// `path + ": " + message`, ready for a log line.
  std::string to_string() const { return path + ": " + message; }
  bool operator==(const decode_error&) const = default;
};

/// Decoding knobs; the defaults suit event consumers.
struct codec_options {
  /// Reject keys that no member of a described struct declares (RPC-style
  /// contracts). Map keys are data and never count as unknown.
  bool strict = false;
  /// Bodies larger than this are rejected before parsing (by `parse` and
  /// `decode_body`; `from_json` has no body to measure).
  std::size_t max_body_bytes = 1 << 20;
};

}  // namespace brook

// The template machinery needs the types above; it lives apart to keep this
// header readable.
#include <brook/detail/codec_impl.hpp>
#include <brook/detail/codec_sax.hpp>

namespace brook::codec {

/// True when `T` can be a message body or a member of one; see the file
/// comment for the list. A described struct qualifies by being described; its
/// members are checked where the struct is encoded, decoded or described.
template <class T>
inline constexpr bool is_body_v = detail::codec::is_body<T>::value;

/// Decodes `v` into `out`. Returns the first error, or nothing on success.
/// On error `out` is valid but partially assigned. Decoding into an existing
/// object reuses its storage (strings, vectors), which helps hot loops.
/// @code
/// shop::order o;
/// if (auto err = brook::codec::from_json(jv, o, {.strict = true})) return fail(*err);
/// @endcode
template <class T>
std::optional<decode_error> from_json(const boost::json::value& v, T& out,
                                      const codec_options& o = {}) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  detail::codec::decode_context c{o, {}};
  if (detail::codec::decode_value(v, out, c))
    return std::nullopt;
  c.error.path.insert(0, "$");
  return std::move(c.error);
}

/// Parses JSON text and decodes it into `out`. Oversize bodies and syntax
/// errors are reported at `$` (`invalid JSON: incomplete JSON at offset 42`).
/// @code
/// shop::order o;
/// if (auto err = brook::codec::parse(text, o)) log(err->to_string());
/// @endcode
/// Thread-safe: each thread reuses its own parser. Text is decoded straight
/// into `out` (no DOM), so a body allocates nothing beyond `out`'s own
/// strings and vectors; types holding a `boost::json::value` or
/// `std::vector<bool>` go through a DOM in a per-thread 16 KiB arena.
template <class T>
std::optional<decode_error> parse(std::string_view json_text, T& out, const codec_options& o = {}) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  if (json_text.size() > o.max_body_bytes)
    return detail::codec::oversize_error(json_text.size(), o.max_body_bytes);
  if constexpr (std::is_same_v<T, boost::json::value>) {
    // The value keeps its own storage, so parse straight into it.
    return detail::codec::parse_into(json_text, out);
  } else {
    namespace sax = detail::codec::sax;
    // Once a type turned out to hold something the stream cannot fill, it
    // goes through the DOM only.
    static std::atomic<bool> streamable{true};
    if (streamable.load(std::memory_order_relaxed)) {
      auto r = sax::run(json_text, {&out, &sax::ops_of<T>()}, o);
      if (r == sax::outcome::ok)
        return std::nullopt;
      if (r == sax::outcome::unsupported)
        streamable.store(false, std::memory_order_relaxed);
    }
    // Bad input (or a type the stream does not cover): the DOM words the error.
    return detail::codec::parse_with_arena(
        json_text, [&](const boost::json::value& v) { return brook::codec::from_json(v, out, o); });
  }
}

/// Converts `x` to a JSON value: empty optional members are omitted from
/// struct objects (written as `null` in arrays and maps, so map keys survive
/// a round trip), enums become their names.
template <class T>
boost::json::value to_json(const T& x) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  boost::json::value v;
  detail::codec::to_json_into(x, v);
  return v;
}

/// Compact JSON text for `x`, written directly without building a
/// `boost::json::value`. Same shape as `to_json`; doubles use the shortest
/// form that reads back exactly (`9.99`, `2.0`, `1e+300`), floats the
/// shortest float form (`0.1f` -> `0.1`).
template <class T>
std::string to_string(const T& x) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  std::string out;
  out.reserve(256);
  detail::codec::write_value(out, x);
  return out;
}

/// A body ready to publish.
struct encoded {
  std::string data;
  /// Points at a string literal; empty for raw bytes.
  std::string_view content_type;
};

/// Encodes an outgoing body with FastStream's rules: `std::string` as is with
/// `text/plain`, `brook::bytes` as is with no content type, anything else as
/// compact JSON (`to_string`) with `application/json`.
/// @code
/// auto [data, content_type] = brook::codec::encode_body(reply);
/// @endcode
template <class T>
encoded encode_body(const T& x) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  if constexpr (std::is_same_v<T, std::string>)
    return {x, detail::codec::text_plain};
  else if constexpr (std::is_same_v<T, bytes>)
    return {std::string(reinterpret_cast<const char*>(x.data()), x.size()), {}};
  else
    return {brook::codec::to_string(x), detail::codec::application_json};
}

/// Moves a string body instead of copying it (handlers returning text).
inline encoded encode_body(std::string&& x) {
  return {std::move(x), detail::codec::text_plain};
}

/// Decodes an incoming body by FastStream's content-type rules, after
/// rejecting bodies over `o.max_body_bytes`:
/// - `brook::bytes`: the raw body, whatever the content type;
/// - `std::string`: with a JSON content type (`application/json` or `...+json`,
///   any case, any parameters) and a body that is a JSON string, that string;
///   otherwise (JSON that is not a string, `text/plain`, other or no content
///   type) the raw text;
/// - anything else, `boost::json::value` included: the body parsed as JSON,
///   whatever the content type.
/// @code
/// shop::order o;
/// if (auto err = brook::codec::decode_body(env.body, env.content_type, o)) reject(*err);
/// @endcode
template <class T>
std::optional<decode_error> decode_body(std::string_view data, std::string_view content_type,
                                        T& out, const codec_options& o = {}) {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  if (data.size() > o.max_body_bytes)
    return detail::codec::oversize_error(data.size(), o.max_body_bytes);
  if constexpr (std::is_same_v<T, bytes>) {
    out.resize(data.size());
    if (!data.empty())
      std::memcpy(out.data(), data.data(), data.size());
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!detail::codec::is_json_media_type(content_type) ||
        !detail::codec::json_string_into(data, out))
      out.assign(data);
    return std::nullopt;
  } else {
    return brook::codec::parse(data, out, o);
  }
}

/// The short, unqualified name of `T`, used as schema title and `$defs` key:
/// `user_created` for `ns::user_created`, `page<user>` for
/// `ns::page<ns::user>`. Other shapes get JSON Schema words: `boolean`,
/// `integer`, `number`, `string`, `bytes`, `any` (`boost::json::value`),
/// `array<U>`, `map<U>`, `optional<U>`.
template <class T>
std::string type_name() {
  static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
  return detail::codec::type_name_of<T>();
}

/// Collects the named schemas of several bodies, e.g. for AsyncAPI
/// `components.schemas`. Described structs and enums are stored once under
/// `type_name<T>()` and referenced as `{"$ref": prefix + name}`; a second
/// type with the same short name (`a::item`, `b::item`) gets its qualified
/// name (`b.item`) instead. Definitions keep first-registration order, so the
/// same sequence of calls always yields the same document.
/// @code
/// brook::codec::schema_registry reg{"#/components/schemas/"};
/// auto payload = reg.schema_of<shop::order>();  // {"$ref":"#/components/schemas/order"}
/// boost::json::object components{{"schemas", reg.definitions()}};
/// @endcode
/// Schema conventions: structs are `{"title", "type":"object", "properties"
/// (declaration order), "required"}` with every non-optional member required
/// (omitted when none); `std::optional<U>` is the plain schema of `U`, just
/// not required; integers narrower than 64 bits carry `minimum`/`maximum`,
/// `uint64_t` carries `minimum: 0`; enums are `{"title", "type":"string",
/// "enum"}`; `brook::bytes` is `{"type":"string","format":"binary"}`;
/// `boost::json::value` is `{}` (anything).
class schema_registry {
public:
  explicit schema_registry(std::string ref_prefix = "#/$defs/") : prefix_(std::move(ref_prefix)) {}

  /// The schema of `T`, registering every described type it reaches.
  template <class T>
  boost::json::value schema_of() {
    static_assert(is_body_v<T>, "brook::codec: T is not a body type (see is_body_v)");
    namespace dc = detail::codec;
    constexpr dc::shape s = dc::shape_of<T>();
    if constexpr (s == dc::shape::structure || s == dc::shape::enumeration) {
      return named_schema<T>();
    } else if constexpr (s == dc::shape::optional) {
      return schema_of<typename T::value_type>();
    } else if constexpr (s == dc::shape::array) {
      return boost::json::object{{"type", "array"}, {"items", schema_of<typename T::value_type>()}};
    } else if constexpr (s == dc::shape::map) {
      return boost::json::object{{"type", "object"},
                                 {"additionalProperties", schema_of<typename T::mapped_type>()}};
    } else {
      return dc::leaf_schema<T>();
    }
  }

  /// Named schemas so far, keyed as referenced.
  const boost::json::object& definitions() const noexcept { return definitions_; }

  /// The prefix given at construction.
  const std::string& ref_prefix() const noexcept { return prefix_; }

private:
  template <class T>
  boost::json::value named_schema() {
    const std::string& qualified = detail::codec::qualified_name<T>();
    auto known = keys_.find(qualified);
    if (known == keys_.end()) {
      std::string key = detail::codec::type_name_of<T>();
      if (definitions_.contains(key))
        key = detail::codec::dotted(qualified);
      known = keys_.emplace(qualified, std::move(key)).first;
      // Reserve the slot first: it fixes the order and stops recursion for
      // self-referencing types.
      definitions_[known->second] = nullptr;
      boost::json::object schema;
      if constexpr (detail::codec::shape_of<T>() == detail::codec::shape::enumeration)
        schema = detail::codec::enum_schema<T>();
      else
        schema = struct_schema<T>();
      definitions_[known->second] = std::move(schema);
    }
    return boost::json::object{{"$ref", prefix_ + known->second}};
  }

  template <class T>
  boost::json::object struct_schema() {
    static_assert(detail::codec::check_struct<T>());
    boost::json::object properties;
    boost::json::array required;
    boost::mp11::mp_for_each<detail::codec::members_of<T>>([&](auto d) {
      using member = detail::codec::member_type<T, decltype(d)>;
      properties[decltype(d)::name] = schema_of<member>();
      if constexpr (detail::codec::shape_of<member>() != detail::codec::shape::optional)
        required.emplace_back(decltype(d)::name);
    });
    boost::json::object schema{{"title", detail::codec::type_name_of<T>()},
                               {"type", "object"},
                               {"properties", std::move(properties)}};
    if (!required.empty())
      schema["required"] = std::move(required);
    return schema;
  }

  std::string prefix_;
  boost::json::object definitions_;
  /// Qualified C++ name -> key in `definitions_`.
  std::map<std::string, std::string, std::less<>> keys_;
};

/// A standalone JSON Schema (2020-12) for `T`: `$schema`, then the schema of
/// `T` itself inline, then `$defs` for the named types it uses (absent when
/// there are none). A self-referencing root stays a `$ref` into `$defs`.
/// @code
/// std::cout << brook::codec::to_string(brook::codec::json_schema<shop::order>());
/// @endcode
template <class T>
boost::json::value json_schema() {
  schema_registry registry;
  boost::json::value root = registry.schema_of<T>();
  return detail::codec::standalone_schema(root, registry.definitions(), registry.ref_prefix());
}

}  // namespace brook::codec
