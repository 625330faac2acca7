#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <brook/asyncapi/generator.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace brook::asyncapi {
namespace {

namespace json = boost::json;

constexpr std::size_t indent_step = 2;

void append_hex4(std::string& out, unsigned code) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += hex[(code >> shift) & 0xF];
  }
}

// Shortest text that reads back as the same double; integral values keep a ".0" so a reader
// sees a number of the same kind. JSON has no infinity or NaN, so those become null.
std::string number_text(double d) {
  if (!std::isfinite(d)) {
    return "null";
  }
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  std::string text(buf.data(), end);
  if (text.find_first_of(".e") == std::string::npos) {
    text += ".0";
  }
  return text;
}

std::string scalar_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: return number_text(v.get_double());
    default: return {};
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          append_hex4(out, c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const json::value& v, std::size_t indent) {
  if (const json::object* obj = v.if_object()) {
    if (obj->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : *obj) {
      if (!first) {
        out += ",\n";
      }
      first = false;
      out.append(indent + indent_step, ' ');
      append_json_string(out, member.key());
      out += ": ";
      append_json(out, member.value(), indent + indent_step);
    }
    out += '\n';
    out.append(indent, ' ');
    out += '}';
  } else if (const json::array* arr = v.if_array()) {
    if (arr->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const json::value& item : *arr) {
      if (!first) {
        out += ",\n";
      }
      first = false;
      out.append(indent + indent_step, ' ');
      append_json(out, item, indent + indent_step);
    }
    out += '\n';
    out.append(indent, ' ');
    out += ']';
  } else if (const json::string* str = v.if_string()) {
    append_json_string(out, *str);
  } else {
    out += scalar_text(v);
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

// Whether `s` can be written unquoted and still read back as this very string by YAML 1.2 and
// YAML 1.1 readers (js-yaml, PyYAML). Deliberately conservative: anything that could start
// a number, a boolean of either spec (`yes`, `off`, `y`), null, an alias, a tag, a comment, a
// flow collection or a document marker gets quoted.
bool plain_safe(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') {
    return false;
  }
  constexpr std::string_view leading = "-?:,[]{}#&*!|>'\"%@`.+~=<";
  if (leading.find(s.front()) != std::string_view::npos || (s.front() >= '0' && s.front() <= '9')) {
    return false;
  }
  for (char c : s) {
    if (c < 0x20 || c > 0x7E || c == ',' || c == '[' || c == ']' || c == '{' || c == '}') {
      return false;
    }
  }
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return false;
  }
  for (std::string_view word : {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}) {
    if (iequals(s, word)) {
      return false;
    }
  }
  return true;
}

// Double-quoted YAML: JSON's escapes are valid here too; additionally the characters YAML 1.1
// reads as line breaks (NEL, LS, PS), the C1 controls, DEL and a BOM are escaped, because
// YAML only allows printable characters in a scalar.
void append_yaml_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    auto next = [&](std::size_t k) {
      return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U;
    };
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex4(out, c);
    } else if (c == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) {
      append_hex4(out, next(1));
      i += 1;
    } else if (c == 0xE2 && next(1) == 0x80 && (next(2) == 0xA8 || next(2) == 0xA9)) {
      append_hex4(out, 0x2028U + (next(2) - 0xA8U));
      i += 2;
    } else if (c == 0xEF && next(1) == 0xBB && next(2) == 0xBF) {
      append_hex4(out, 0xFEFF);
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void append_yaml_string(std::string& out, std::string_view s) {
  if (plain_safe(s)) {
    out += s;
  } else {
    append_yaml_quoted(out, s);
  }
}

bool is_block(const json::value& v) {
  if (const json::object* obj = v.if_object()) {
    return !obj->empty();
  }
  if (const json::array* arr = v.if_array()) {
    return !arr->empty();
  }
  return false;
}

void append_yaml_inline(std::string& out, const json::value& v) {
  if (const json::string* str = v.if_string()) {
    append_yaml_string(out, *str);
  } else if (v.is_object()) {
    out += "{}";
  } else if (v.is_array()) {
    out += "[]";
  } else {
    out += scalar_text(v);
  }
}

void append_yaml_block(std::string& out, const json::value& v, std::size_t indent,
                       bool inline_first);

// The value after "key:" or "-": scalars and empty collections stay on the line, collections
// go below (mappings in a sequence start on the dash line, the compact form).
void append_yaml_value(std::string& out, const json::value& v, std::size_t indent,
                       bool after_dash) {
  if (!is_block(v)) {
    out += ' ';
    append_yaml_inline(out, v);
    out += '\n';
  } else if (after_dash) {
    out += ' ';
    append_yaml_block(out, v, indent + indent_step, true);
  } else {
    out += '\n';
    append_yaml_block(out, v, indent + indent_step, false);
  }
}

// YAML caps implicit keys at 1024 characters; longer ones need the explicit "? key" form.
constexpr std::size_t max_implicit_key = 1000;

void append_yaml_block(std::string& out, const json::value& v, std::size_t indent,
                       bool inline_first) {
  bool first = true;
  auto start_line = [&] {
    if (!(first && inline_first)) {
      out.append(indent, ' ');
    }
    first = false;
  };
  if (const json::object* obj = v.if_object()) {
    for (const auto& member : *obj) {
      start_line();
      std::string key;
      append_yaml_string(key, member.key());
      if (key.size() > max_implicit_key) {
        out += "? " + key + '\n';
        out.append(indent, ' ');
        out += ':';
      } else {
        out += key + ':';
      }
      append_yaml_value(out, member.value(), indent, false);
    }
  } else if (const json::array* arr = v.if_array()) {
    for (const json::value& item : *arr) {
      start_line();
      out += '-';
      append_yaml_value(out, item, indent, true);
    }
  }
}

}  // namespace

std::string to_json_text(const boost::json::value& v) {
  std::string out;
  append_json(out, v, 0);
  out += '\n';
  return out;
}

std::string to_yaml(const boost::json::value& v) {
  std::string out;
  if (is_block(v)) {
    append_yaml_block(out, v, 0, false);
  } else {
    append_yaml_inline(out, v);
    out += '\n';
  }
  return out;
}

}  // namespace brook::asyncapi
