#pragma once
/// @file
/// The decoder: JSON text to a value, with the first error's field path; the parse arena and media
/// types. Part of <brook/codec.hpp>'s internals (see codec_impl.hpp); include <brook/codec.hpp>
/// instead.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <brook/detail/codec_shape.hpp>
#include <brook/detail/codec_write.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace brook::detail::codec {

namespace json = boost::json;

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

}  // namespace brook::detail::codec
