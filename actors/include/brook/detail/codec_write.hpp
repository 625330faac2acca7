#pragma once
/// @file
/// The encoder: a value straight to JSON text (and to a json::value). Part of <brook/codec.hpp>'s
/// internals (see codec_impl.hpp); include <brook/codec.hpp> instead.
#include <array>
#include <boost/json/value.hpp>
#include <brook/detail/codec_shape.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace brook::detail::codec {

namespace json = boost::json;

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

}  // namespace brook::detail::codec
