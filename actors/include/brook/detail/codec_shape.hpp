#pragma once
/// @file
/// Shapes: what a C++ type looks like in JSON, its checks and its names. Part of
/// <brook/codec.hpp>'s internals (see codec_impl.hpp); include <brook/codec.hpp> instead.
#include <boost/core/type_name.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/json/fwd.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace brook::detail::codec {

namespace json = boost::json;

inline constexpr std::string_view text_plain = "text/plain";
inline constexpr std::string_view application_json = "application/json";

/// What a C++ type looks like in JSON; every operation dispatches on it.
enum class shape {
  unsupported,
  boolean,
  integer,
  floating,
  string,
  bytes,
  any,
  enumeration,
  structure,
  optional,
  array,
  map
};

template <class T>
struct is_optional : std::false_type {};
template <class U>
struct is_optional<std::optional<U>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class U, class A>
struct is_vector<std::vector<U, A>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class U, class C, class A>
struct is_string_map<std::map<std::string, U, C, A>> : std::true_type {};

// Character types are excluded: a `char` member is far more likely a
// mistake than a number on the wire.
template <class T>
inline constexpr bool is_json_integer =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
    !std::is_same_v<T, char32_t>;

template <class T>
constexpr shape shape_of() {
  if constexpr (std::is_same_v<T, bool>)
    return shape::boolean;
  else if constexpr (is_json_integer<T>)
    return shape::integer;
  else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
    return shape::floating;
  else if constexpr (std::is_same_v<T, std::string>)
    return shape::string;
  else if constexpr (std::is_same_v<T, brook::bytes>)
    return shape::bytes;
  else if constexpr (std::is_same_v<T, json::value>)
    return shape::any;
  else if constexpr (std::is_enum_v<T>)
    return boost::describe::has_describe_enumerators<T>::value ? shape::enumeration
                                                               : shape::unsupported;
  else if constexpr (is_optional<T>::value)
    return shape::optional;
  else if constexpr (is_vector<T>::value)
    return shape::array;
  else if constexpr (is_string_map<T>::value)
    return shape::map;
  else if constexpr (std::is_class_v<T> && !std::is_union_v<T> &&
                     boost::describe::has_describe_members<T>::value)
    return shape::structure;
  else
    return shape::unsupported;
}

// Structs are accepted without looking at their members: a deep check would
// recurse forever on self-referencing types. Members are checked where used.
template <class T>
struct is_body
    : std::bool_constant<shape_of<T>() != shape::unsupported && shape_of<T>() != shape::optional &&
                         shape_of<T>() != shape::array && shape_of<T>() != shape::map> {};
template <>
struct is_body<brook::bytes> : std::true_type {};
template <class U>
struct is_body<std::optional<U>> : std::conjunction<is_body<U>, std::negation<is_optional<U>>> {};
template <class U, class A>
struct is_body<std::vector<U, A>> : is_body<U> {};
template <class U, class C, class A>
struct is_body<std::map<std::string, U, C, A>> : is_body<U> {};

template <class T>
using members_of = boost::describe::describe_members<T, boost::describe::mod_public |
                                                            boost::describe::mod_inherited>;

template <class T, class Descriptor>
using member_type = std::remove_cvref_t<decltype(std::declval<T&>().*Descriptor::pointer)>;

template <class T>
constexpr bool check_struct() {
  using hidden = boost::describe::describe_members<T, boost::describe::mod_protected |
                                                          boost::describe::mod_private |
                                                          boost::describe::mod_inherited>;
  static_assert(boost::mp11::mp_empty<hidden>::value,
                "brook::codec: members of a described struct must be public");
  boost::mp11::mp_for_each<members_of<T>>([](auto d) {
    static_assert(is_body<member_type<T, decltype(d)>>::value,
                  "brook::codec: every described member must be a body type (see is_body_v)");
  });
  return true;
}

inline std::string_view to_sv(json::string_view s) noexcept {
  return {s.data(), s.size()};
}

template <class T>
const std::string& qualified_name() {
  static const std::string name = boost::core::type_name<T>();
  return name;
}

/// Drops every qualifier: `ns::page<ns::user>` -> `page<user>`,
/// `(anonymous namespace)::x` -> `x`.
inline std::string short_name(std::string_view qualified) {
  std::string out;
  out.reserve(qualified.size());
  for (std::size_t i = 0; i < qualified.size();) {
    if (qualified.substr(i, 2) != "::") {
      out += qualified[i++];
      continue;
    }
    // Erase the qualifier just copied, stopping at the enclosing template
    // argument list; brackets inside the qualifier are skipped as a whole.
    int depth = 0;
    while (!out.empty()) {
      char ch = out.back();
      if (ch == '>' || ch == ')') {
        ++depth;
      } else if (ch == '<' || ch == '(') {
        if (depth == 0)
          break;
        --depth;
      } else if (depth == 0 && (ch == ',' || ch == ' ')) {
        break;
      }
      out.pop_back();
    }
    i += 2;
  }
  return out;
}

/// `a::b::item` -> `a.b.item`, for names that collide in short form.
inline std::string dotted(std::string_view qualified) {
  constexpr std::string_view anonymous = "(anonymous namespace)::";
  std::string out;
  for (std::size_t i = 0; i < qualified.size();) {
    if (qualified.substr(i, anonymous.size()) == anonymous) {
      i += anonymous.size();
    } else if (qualified.substr(i, 2) == "::") {
      out += '.';
      i += 2;
    } else {
      out += qualified[i++];
    }
  }
  return out;
}

template <class T>
std::string type_name_of() {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::structure || s == shape::enumeration) {
    static const std::string name = short_name(qualified_name<T>());
    return name;
  } else if constexpr (s == shape::boolean) {
    return "boolean";
  } else if constexpr (s == shape::integer) {
    return "integer";
  } else if constexpr (s == shape::floating) {
    return "number";
  } else if constexpr (s == shape::string) {
    return "string";
  } else if constexpr (s == shape::bytes) {
    return "bytes";
  } else if constexpr (s == shape::any) {
    return "any";
  } else if constexpr (s == shape::optional) {
    return "optional<" + type_name_of<typename T::value_type>() + ">";
  } else if constexpr (s == shape::array) {
    return "array<" + type_name_of<typename T::value_type>() + ">";
  } else {
    static_assert(s == shape::map);
    return "map<" + type_name_of<typename T::mapped_type>() + ">";
  }
}

template <class E>
const char* enum_name(E e) noexcept {
  const char* name = nullptr;
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
    if (name == nullptr && e == d.value)
      name = d.name;
  });
  return name;
}

}  // namespace brook::detail::codec
