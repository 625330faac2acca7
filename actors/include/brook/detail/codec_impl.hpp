#pragma once
/// @file
/// Internals of <brook/codec.hpp>, which includes this header after
/// declaring `brook::bytes`, `decode_error` and `codec_options`. Include
/// <brook/codec.hpp> instead.
#include <array>
#include <boost/core/type_name.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
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

inline void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  // Most strings need no escaping: check without branching (the loop
  // vectorizes), then copy in one go.
  bool plain = true;
  for (char c : s) {
    auto ch = static_cast<unsigned char>(c);
    plain &= (ch >= 0x20) & (ch != '"') & (ch != '\\');
  }
  if (plain) {
    const std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    if (!s.empty())
      std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[ch >> 4];
        out += hex[ch & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

template <class I>
void write_integer(std::string& out, I x) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Shortest round-trip form; integral values keep a ".0" so readers (Boost's
// `kind`, Python's json) still see a floating-point number.
template <class F>
void write_floating(std::string& out, F x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos)
    out += ".0";
}

inline void write_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: write_integer(out, v.get_int64()); break;
    case json::kind::uint64: write_integer(out, v.get_uint64()); break;
    case json::kind::double_: write_floating(out, v.get_double()); break;
    case json::kind::string: write_string(out, to_sv(v.get_string())); break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first)
          out += ',';
        first = false;
        write_json(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first)
          out += ',';
        first = false;
        write_string(out, to_sv(kv.key()));
        out += ':';
        write_json(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

/// `,"name":` for a described member, built at compile time (member names
/// are identifiers: nothing to escape).
template <class D>
struct member_token {
  static constexpr std::size_t size = std::char_traits<char>::length(D::name);
  static constexpr std::array<char, size + 4> chars = [] {
    std::array<char, size + 4> a{};
    a[0] = ',';
    a[1] = '"';
    for (std::size_t i = 0; i < size; ++i)
      a[i + 2] = D::name[i];
    a[size + 2] = '"';
    a[size + 3] = ':';
    return a;
  }();
  static constexpr std::string_view text() { return {chars.data(), chars.size()}; }
};

template <class T>
void write_value(std::string& out, const T& x) {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::boolean) {
    out += x ? "true" : "false";
  } else if constexpr (s == shape::integer) {
    write_integer(out, x);
  } else if constexpr (s == shape::floating) {
    write_floating(out, x);
  } else if constexpr (s == shape::string) {
    write_string(out, x);
  } else if constexpr (s == shape::bytes) {
    write_string(out, {reinterpret_cast<const char*>(x.data()), x.size()});
  } else if constexpr (s == shape::any) {
    write_json(out, x);
  } else if constexpr (s == shape::enumeration) {
    // A value without a name is written as its number, so the reader fails
    // loudly instead of receiving a made-up name.
    if (const char* name = enum_name(x)) {
      out += '"';
      out += name;
      out += '"';
    } else {
      write_integer(out, static_cast<std::underlying_type_t<T>>(x));
    }
  } else if constexpr (s == shape::optional) {
    if (x)
      detail::codec::write_value(out, *x);
    else
      out += "null";
  } else if constexpr (s == shape::array) {
    out += '[';
    bool first = true;
    for (const auto& e : x) {
      if (!first)
        out += ',';
      first = false;
      detail::codec::write_value<typename T::value_type>(out, e);
    }
    out += ']';
  } else if constexpr (s == shape::map) {
    out += '{';
    bool first = true;
    for (const auto& [key, e] : x) {
      if (!first)
        out += ',';
      first = false;
      write_string(out, key);
      out += ':';
      detail::codec::write_value(out, e);
    }
    out += '}';
  } else {
    static_assert(check_struct<T>());
    out += '{';
    bool first = true;
    boost::mp11::mp_for_each<members_of<T>>([&](auto d) {
      const auto& field = x.*decltype(d)::pointer;
      if constexpr (is_optional<member_type<T, decltype(d)>>::value)
        if (!field)
          return;
      constexpr std::string_view token = member_token<decltype(d)>::text();
      out.append(first ? token.substr(1) : token);
      first = false;
      detail::codec::write_value(out, field);
    });
    out += '}';
  }
}

template <class T>
void to_json_into(const T& x, json::value& out) {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::boolean || s == shape::integer) {
    out = x;
  } else if constexpr (s == shape::floating) {
    // JSON has no NaN or infinity; `null` matches `to_string` and pydantic.
    if (std::isfinite(x))
      out = static_cast<double>(x);
    else
      out = nullptr;
  } else if constexpr (s == shape::string) {
    out.emplace_string().assign(x.data(), x.size());
  } else if constexpr (s == shape::bytes) {
    out.emplace_string().assign(reinterpret_cast<const char*>(x.data()), x.size());
  } else if constexpr (s == shape::any) {
    out = x;
  } else if constexpr (s == shape::enumeration) {
    if (const char* name = enum_name(x))
      out = name;
    else
      out = static_cast<std::underlying_type_t<T>>(x);
  } else if constexpr (s == shape::optional) {
    if (x)
      detail::codec::to_json_into(*x, out);
    else
      out = nullptr;
  } else if constexpr (s == shape::array) {
    json::array& a = out.emplace_array();
    a.reserve(x.size());
    for (const auto& e : x)
      detail::codec::to_json_into<typename T::value_type>(e, a.emplace_back(nullptr));
  } else if constexpr (s == shape::map) {
    json::object& o = out.emplace_object();
    o.reserve(x.size());
    for (const auto& [key, e] : x)
      detail::codec::to_json_into(e, o[key]);
  } else {
    static_assert(check_struct<T>());
    json::object& o = out.emplace_object();
    boost::mp11::mp_for_each<members_of<T>>([&](auto d) {
      const auto& field = x.*decltype(d)::pointer;
      if constexpr (is_optional<member_type<T, decltype(d)>>::value)
        if (!field)
          return;
      constexpr std::string_view name{decltype(d)::name};
      detail::codec::to_json_into(field, o[name]);
    });
  }
}

inline const char* kind_name(json::kind k) noexcept {
  switch (k) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64: return "int64";
    case json::kind::uint64: return "uint64";
    case json::kind::double_: return "double";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "unknown";
}

inline bool is_identifier(std::string_view s) noexcept {
  auto alpha = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
  };
  if (s.empty() || !alpha(s.front()))
    return false;
  for (char ch : s)
    if (!alpha(ch) && !(ch >= '0' && ch <= '9'))
      return false;
  return true;
}

/// The first error of one decode. The path is built only on failure, while
/// unwinding: each level prepends its own segment, so success costs nothing.
struct decode_context {
  const codec_options& options;
  decode_error error;

  bool fail(std::string_view message) {
    error.message.assign(message);
    return false;
  }
  bool fail_expected(std::string_view expected, const json::value& got) {
    error.message.assign("expected ")
        .append(expected)
        .append(", got ")
        .append(kind_name(got.kind()));
    return false;
  }
  bool prepend_member(std::string_view name) {
    error.path.insert(0, 1, '.').insert(1, name);
    return false;
  }
  bool prepend_index(std::size_t i) {
    error.path.insert(0, '[' + std::to_string(i) + ']');
    return false;
  }
  bool prepend_key(std::string_view key) {
    std::string segment = "[";
    write_string(segment, key);
    segment += ']';
    error.path.insert(0, segment);
    return false;
  }
  /// A key of a struct's object that is not a member: `.name` when it reads
  /// like one, else the bracketed form.
  bool prepend_field(std::string_view key) {
    return is_identifier(key) ? prepend_member(key) : prepend_key(key);
  }
};

template <class T>
bool decode_value(const json::value& v, T& out, decode_context& c);

template <class I>
bool decode_integer(const json::value& v, I& out, decode_context& c) {
  if (const std::int64_t* x = v.if_int64()) {
    if (!std::in_range<I>(*x))
      return c.fail("integer out of range");
    out = static_cast<I>(*x);
    return true;
  }
  if (const std::uint64_t* x = v.if_uint64()) {
    if (!std::in_range<I>(*x))
      return c.fail("integer out of range");
    out = static_cast<I>(*x);
    return true;
  }
  return c.fail_expected("integer", v);
}

template <class F>
bool decode_floating(const json::value& v, F& out, decode_context& c) {
  double x = 0;
  switch (v.kind()) {
    case json::kind::double_: x = v.get_double(); break;
    case json::kind::int64: x = static_cast<double>(v.get_int64()); break;
    case json::kind::uint64: x = static_cast<double>(v.get_uint64()); break;
    default: return c.fail_expected("number", v);
  }
  if constexpr (std::is_same_v<F, float>)
    if (std::isfinite(x) && std::abs(x) > std::numeric_limits<float>::max())
      return c.fail("number out of range");
  out = static_cast<F>(x);
  return true;
}

template <class E>
bool decode_enum(const json::value& v, E& out, decode_context& c) {
  const json::string* s = v.if_string();
  if (s == nullptr)
    return c.fail_expected("string", v);
  const std::string_view text = to_sv(*s);
  bool found = false;
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
    if (!found && text == std::string_view{decltype(d)::name}) {
      out = d.value;
      found = true;
    }
  });
  if (found)
    return true;
  std::string message = "unknown enum value '";
  message.append(text).append("' (allowed: ");
  bool first = true;
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
    message.append(first ? "" : "|").append(d.name);
    first = false;
  });
  message += ')';
  return c.fail(message);
}

/// Finds `name` in `obj`, trying first the slot after the previous match:
/// producers usually write members in declaration order, which turns the
/// lookups into one linear pass.
inline const json::value* find_member(const json::object& obj, std::string_view name,
                                      std::size_t& hint) noexcept {
  if (hint < obj.size()) {
    const json::key_value_pair& kv = obj.begin()[hint];
    if (to_sv(kv.key()) == name) {
      ++hint;
      return &kv.value();
    }
  }
  auto it = obj.find(name);
  if (it == obj.end())
    return nullptr;
  hint = static_cast<std::size_t>(it - obj.begin()) + 1;
  return &it->value();
}

template <class T>
bool report_unknown_field(const json::object& obj, decode_context& c) {
  for (const auto& kv : obj) {
    const std::string_view key = to_sv(kv.key());
    bool known = false;
    boost::mp11::mp_for_each<members_of<T>>(
        [&](auto d) { known = known || key == std::string_view{decltype(d)::name}; });
    if (!known) {
      c.fail("unknown field");
      return c.prepend_field(key);
    }
  }
  return true;
}

template <class T>
bool decode_struct(const json::value& v, T& out, decode_context& c) {
  static_assert(check_struct<T>());
  const json::object* obj = v.if_object();
  if (obj == nullptr)
    return c.fail_expected("object", v);
  bool ok = true;
  std::size_t hint = 0;
  std::size_t matched = 0;
  boost::mp11::mp_for_each<members_of<T>>([&](auto d) {
    if (!ok)
      return;
    constexpr std::string_view name{decltype(d)::name};
    auto& field = out.*decltype(d)::pointer;
    const json::value* fv = find_member(*obj, name, hint);
    if (fv == nullptr) {
      if constexpr (is_optional<member_type<T, decltype(d)>>::value) {
        field.reset();
      } else {
        c.fail("missing required field");
        ok = c.prepend_member(name);
      }
      return;
    }
    ++matched;
    if (!detail::codec::decode_value(*fv, field, c))
      ok = c.prepend_member(name);
  });
  // Counting matches makes the strict check free unless a key is unknown.
  if (ok && c.options.strict && matched != obj->size())
    return detail::codec::report_unknown_field<T>(*obj, c);
  return ok;
}

template <class T>
bool decode_value(const json::value& v, T& out, decode_context& c) {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::boolean) {
    const bool* b = v.if_bool();
    if (b == nullptr)
      return c.fail_expected("bool", v);
    out = *b;
    return true;
  } else if constexpr (s == shape::integer) {
    return decode_integer(v, out, c);
  } else if constexpr (s == shape::floating) {
    return decode_floating(v, out, c);
  } else if constexpr (s == shape::string || s == shape::bytes) {
    const json::string* str = v.if_string();
    if (str == nullptr)
      return c.fail_expected("string", v);
    if constexpr (s == shape::string) {
      out.assign(str->data(), str->size());
    } else {
      out.resize(str->size());
      if (!str->empty())
        std::memcpy(out.data(), str->data(), str->size());
    }
    return true;
  } else if constexpr (s == shape::any) {
    out = v;
    return true;
  } else if constexpr (s == shape::enumeration) {
    return decode_enum(v, out, c);
  } else if constexpr (s == shape::optional) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    if (!out)
      out.emplace();
    return detail::codec::decode_value(v, *out, c);
  } else if constexpr (s == shape::array) {
    const json::array* a = v.if_array();
    if (a == nullptr)
      return c.fail_expected("array", v);
    // Resizing keeps the elements' storage for reuse across decodes.
    out.resize(a->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
      if constexpr (std::is_same_v<typename T::value_type, bool>) {
        bool b = false;
        if (!detail::codec::decode_value((*a)[i], b, c))
          return c.prepend_index(i);
        out[i] = b;
      } else {
        if (!detail::codec::decode_value((*a)[i], out[i], c))
          return c.prepend_index(i);
      }
    }
    return true;
  } else if constexpr (s == shape::map) {
    const json::object* obj = v.if_object();
    if (obj == nullptr)
      return c.fail_expected("object", v);
    out.clear();
    for (const auto& kv : *obj) {
      const std::string_view key = to_sv(kv.key());
      auto& e = out.try_emplace(std::string(key)).first->second;
      if (!detail::codec::decode_value(kv.value(), e, c))
        return c.prepend_key(key);
    }
    return true;
  } else {
    return detail::codec::decode_struct(v, out, c);
  }
}

inline decode_error oversize_error(std::size_t size, std::size_t limit) {
  return {"$", "body of " + std::to_string(size) + " bytes exceeds the limit of " +
                   std::to_string(limit) + " bytes (raise it with subscriber.max_body_bytes(n))"};
}

inline decode_error syntax_error(const boost::system::error_code& ec, std::size_t offset) {
  return {"$", "invalid JSON: " + ec.message() + " at offset " + std::to_string(offset)};
}

/// Per-thread parse state: the parser keeps its internal stack between
/// messages and the buffer serves the DOM of small bodies, so decoding a
/// typical message allocates nothing but the target's own strings.
struct parse_arena {
  alignas(std::max_align_t) unsigned char buffer[16 * 1024];
  json::parser parser;
};

inline parse_arena& thread_parse_arena() {
  thread_local parse_arena arena;
  return arena;
}

/// Leaves the parser without references to a caller's memory (a failed
/// parse keeps partial values) when the scope ends.
struct parser_reset_guard {
  json::parser& parser;
  explicit parser_reset_guard(json::parser& p) noexcept : parser(p) {}
  parser_reset_guard(const parser_reset_guard&) = delete;
  parser_reset_guard& operator=(const parser_reset_guard&) = delete;
  ~parser_reset_guard() { parser.reset(); }
};

/// Parses `text` into a DOM that lives in the thread's arena for the
/// duration of `use(const json::value&)`, whose result is returned.
template <class F>
std::optional<decode_error> parse_with_arena(std::string_view text, F&& use) {
  parse_arena& a = thread_parse_arena();
  json::monotonic_resource memory(a.buffer, sizeof a.buffer);
  parser_reset_guard guard{a.parser};
  a.parser.reset(&memory);
  boost::system::error_code ec;
  const std::size_t consumed = a.parser.write(text.data(), text.size(), ec);
  if (ec)
    return syntax_error(ec, consumed);
  const json::value v = a.parser.release();
  return std::forward<F>(use)(v);
}

inline std::optional<decode_error> parse_into(std::string_view text, json::value& out) {
  json::parser& p = thread_parse_arena().parser;
  parser_reset_guard guard{p};
  p.reset(out.storage());
  boost::system::error_code ec;
  const std::size_t consumed = p.write(text.data(), text.size(), ec);
  if (ec)
    return syntax_error(ec, consumed);
  out = p.release();
  return std::nullopt;
}

/// If `data` is a JSON string, stores its value in `out` and returns true.
inline bool json_string_into(std::string_view data, std::string& out) {
  const auto first = data.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || data[first] != '"')
    return false;
  bool taken = false;
  parse_with_arena(data, [&](const json::value& v) -> std::optional<decode_error> {
    if (const json::string* s = v.if_string()) {
      out.assign(s->data(), s->size());
      taken = true;
    }
    return std::nullopt;
  });
  return taken;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i])
      return false;
  }
  return true;
}

/// `application/json` or a `+json` suffix type, any case, any parameters.
inline bool is_json_media_type(std::string_view content_type) noexcept {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  const auto begin = type.find_first_not_of(" \t");
  if (begin == std::string_view::npos)
    return false;
  type = type.substr(begin, type.find_last_not_of(" \t") - begin + 1);
  return iequals(type, application_json) ||
         (type.size() > 5 && iequals(type.substr(type.size() - 5), "+json"));
}

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
