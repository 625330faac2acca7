#pragma once
/// @file
/// JSON Schema pieces for AsyncAPI: leaf and enum schemas, standalone documents. Part of
/// <brook/codec.hpp>'s internals (see codec_impl.hpp); include <brook/codec.hpp> instead.
#include <boost/json/value.hpp>
#include <brook/detail/codec_shape.hpp>
#include <string_view>

namespace brook::detail::codec {

namespace json = boost::json;

template <class T>
json::object leaf_schema() {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::boolean) {
    return {{"type", "boolean"}};
  } else if constexpr (s == shape::integer) {
    json::object schema{{"type", "integer"}};
    if constexpr (sizeof(T) < 8) {
      schema["minimum"] = static_cast<std::int64_t>(std::numeric_limits<T>::min());
      schema["maximum"] = static_cast<std::int64_t>(std::numeric_limits<T>::max());
    } else if constexpr (std::is_unsigned_v<T>) {
      schema["minimum"] = 0;
    }
    return schema;
  } else if constexpr (s == shape::floating) {
    return {{"type", "number"}};
  } else if constexpr (s == shape::string) {
    return {{"type", "string"}};
  } else if constexpr (s == shape::bytes) {
    return {{"type", "string"}, {"format", "binary"}};
  } else {
    static_assert(s == shape::any);
    return {};
  }
}

template <class E>
json::object enum_schema() {
  json::array names;
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>(
      [&](auto d) { names.emplace_back(d.name); });
  return {{"title", type_name_of<E>()}, {"type", "string"}, {"enum", std::move(names)}};
}

inline bool contains_ref(const json::value& v, std::string_view ref) {
  if (const json::object* o = v.if_object()) {
    if (const json::value* r = o->if_contains("$ref");
        r != nullptr && r->is_string() && to_sv(r->get_string()) == ref)
      return true;
    for (const auto& kv : *o)
      if (contains_ref(kv.value(), ref))
        return true;
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a)
      if (contains_ref(e, ref))
        return true;
  }
  return false;
}

/// Turns a registry's root schema and definitions into one document; the
/// root's own definition moves inline unless something refers back to it.
inline json::value standalone_schema(const json::value& root, const json::object& definitions,
                                     std::string_view prefix) {
  const json::object* body = &root.as_object();
  std::string_view inlined_key;
  if (const json::value* r = body->if_contains("$ref")) {
    const std::string_view ref = to_sv(r->get_string());
    bool referenced = false;
    for (const auto& kv : definitions)
      referenced = referenced || contains_ref(kv.value(), ref);
    if (!referenced) {
      inlined_key = ref.substr(prefix.size());
      body = &definitions.at(inlined_key).as_object();
    }
  }
  json::object doc{{"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  for (const auto& kv : *body)
    doc[kv.key()] = kv.value();
  // Rebuilt rather than erased from a copy: json::object::erase reorders.
  json::object defs;
  for (const auto& kv : definitions)
    if (to_sv(kv.key()) != inlined_key)
      defs[kv.key()] = kv.value();
  if (!defs.empty())
    doc["$defs"] = std::move(defs);
  return doc;
}

}  // namespace brook::detail::codec
