#include "envelope.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <brook/detail/ids.hpp>
#include <cstdint>
#include <cstring>

namespace brook::redis {

namespace {

constexpr std::array<unsigned char, 8> magic{0x89, 'B', 'I', 'N', 0x0d, 0x0a, 0x1a, 0x0a};
constexpr std::uint16_t version_v1 = 1;
// magic + version + two u32 offsets; the header block starts right after them.
constexpr std::size_t fixed_prefix = 18;

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A bounds-checked big-endian reader; any overrun turns `ok` false, so the caller can fall
// back to the next format the way FastStream's parser does on an exception.
struct reader {
  std::string_view data;
  std::size_t pos = 0;
  bool ok = true;

  std::uint32_t uint(std::size_t width) {
    if (!ok || pos > data.size() || data.size() - pos < width) {
      ok = false;
      return 0;
    }
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < width; ++i)
      v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
    pos += width;
    return v;
  }
  std::string_view bytes(std::size_t n) {
    if (!ok || pos > data.size() || data.size() - pos < n) {
      ok = false;
      return {};
    }
    auto v = data.substr(pos, n);
    pos += n;
    return v;
  }
  // `n` well-formed UTF-8 characters (the shortest forms, no surrogates, as Python's
  // str.encode() writes them).
  std::string_view chars(std::size_t n) {
    auto start = pos;
    for (; n > 0 && ok; --n) {
      auto width = utf8_width(data.substr(std::min(pos, data.size())));
      if (width == 0)
        ok = false;
      pos += width;
    }
    return ok ? data.substr(start, pos - start) : std::string_view{};
  }

  // The length of the UTF-8 character that starts `s`, 0 when there is none.
  static std::size_t utf8_width(std::string_view s) {
    if (s.empty())
      return 0;
    auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    auto lead = at(0);
    if (lead < 0x80)
      return 1;
    std::size_t width = lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    if (width == 0 || s.size() < width)
      return 0;
    // The second byte's range excludes overlong forms, surrogates and code points > U+10FFFF.
    unsigned char lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
    if (at(1) < lo || at(1) > hi)
      return 0;
    for (std::size_t i = 2; i < width; ++i)
      if ((at(i) & 0xc0) != 0x80)
        return 0;
    return width;
  }
};

// How a header block's u16 lengths count: bytes per the format, or characters as FastStream
// (0.6 to at least 0.7.8) writes them (Python's len(str), of a value it then UTF-8 encodes).
enum class length_unit { bytes, chars };

// Reads `count` headers from `in` into `hs`; false when they do not fit.
bool read_headers(reader& in, std::uint32_t count, length_unit unit, brook::headers& hs) {
  auto text = [&] {
    auto n = in.uint(2);
    return unit == length_unit::bytes ? in.bytes(n) : in.chars(n);
  };
  // A header takes at least 4 bytes, so a garbage count cannot make this allocate much.
  hs.reserve(std::min<std::size_t>(count, (in.data.size() - std::min(in.pos, in.data.size())) / 4));
  for (std::uint32_t i = 0; i < count && in.ok; ++i) {
    auto key = text();
    auto value = text();
    if (in.ok)
      hs.set(std::string{key}, std::string{value});
  }
  return in.ok;
}

enum class binary_result { decoded, not_binary, malformed };

binary_result decode_binary(std::string_view bytes, envelope& env) {
  if (bytes.size() < magic.size() || std::memcmp(bytes.data(), magic.data(), magic.size()) != 0)
    return binary_result::not_binary;
  reader in{bytes, magic.size()};
  if (in.uint(2) != version_v1)
    return binary_result::malformed;
  auto headers_at = in.uint(4);
  auto data_at = in.uint(4);
  if (!in.ok || headers_at > bytes.size() || data_at > bytes.size())
    return binary_result::malformed;
  in.pos = headers_at;
  auto count = in.uint(2);
  if (!in.ok)
    return binary_result::malformed;
  auto block_at = in.pos;
  brook::headers hs;
  // FastStream's header block always ends at the data offset. When byte lengths do not lead
  // there, they may be character counts (non-ASCII headers from Python); that reading must
  // end exactly at the data offset too. Byte lengths that fit but end elsewhere would leave
  // garbled headers (a character-counted last value, cut short), so they are not accepted.
  if (!read_headers(in, count, length_unit::bytes, hs) || in.pos != data_at) {
    reader again{bytes, block_at};
    hs = {};
    if (!read_headers(again, count, length_unit::chars, hs) || again.pos != data_at)
      return binary_result::malformed;
  }
  env.headers = std::move(hs);
  env.body.assign(bytes.substr(data_at));
  return binary_result::decoded;
}

std::string json_text(const boost::json::value& v) {
  if (v.is_string())
    return std::string{v.get_string()};
  return boost::json::serialize(v);
}

// FastStream 0.5's envelope: {"data": "<payload>", "headers": {...}}. Only a string `data`
// counts, as in FastStream (its `.encode()` fails on anything else, which means raw bytes).
bool decode_legacy_json(std::string_view bytes, envelope& env) {
  auto first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || bytes[first] != '{')
    return false;
  boost::system::error_code ec;
  auto doc = boost::json::parse(bytes, ec);
  if (ec || !doc.is_object())
    return false;
  auto& obj = doc.get_object();
  auto data = obj.find("data");
  if (data == obj.end() || !data->value().is_string())
    return false;
  brook::headers hs;
  if (auto h = obj.find("headers"); h != obj.end() && h->value().is_object())
    for (auto& kv : h->value().get_object())
      hs.set(std::string{kv.key()}, json_text(kv.value()));
  env.headers = std::move(hs);
  env.body.assign(data->value().get_string());
  return true;
}

void fill_well_known(envelope& env) {
  auto get = [&](std::string_view key) {
    auto v = env.headers.find(key);
    return v ? *v : std::string{};
  };
  env.correlation_id = get("correlation_id");
  env.reply_to = get("reply_to");
  env.content_type = get("content-type");
  env.message_id = get("message_id");
  if (env.correlation_id.empty() || env.message_id.empty()) {
    auto id = detail::new_uuid();
    if (env.correlation_id.empty())
      env.correlation_id = id;
    if (env.message_id.empty())
      env.message_id = std::move(id);
  }
}

}  // namespace

error_info encode_envelope(const outgoing& msg, std::string& out) {
  // FastStream builds a dict: the well-known headers, then `update(user headers)`, so a user
  // header replaces a same-named one in its place and the last duplicate wins. Emulated
  // without copying any header: a key's value is the last user header of that name, if any.
  auto last_user_value = [&](std::string_view key) -> const std::string* {
    const std::string* found = nullptr;
    for (auto& [k, v] : msg.headers)
      if (k == key)
        found = &v;
    return found;
  };
  std::string generated_id;
  if (msg.correlation_id.empty())
    generated_id = detail::new_uuid();
  std::pair<std::string_view, std::string_view> known[4];
  std::size_t n_known = 0;
  known[n_known++] = {"correlation_id",
                      msg.correlation_id.empty() ? generated_id : msg.correlation_id};
  if (!msg.content_type.empty())
    known[n_known++] = {"content-type", msg.content_type};
  if (!msg.reply_to.empty())
    known[n_known++] = {"reply_to", msg.reply_to};
  if (!msg.message_id.empty())
    known[n_known++] = {"message_id", msg.message_id};
  auto is_known = [&](std::string_view key) {
    for (std::size_t i = 0; i < n_known; ++i)
      if (known[i].first == key)
        return true;
    return false;
  };
  // A user header is written at its first occurrence, unless a well-known one took its place.
  auto first_user_occurrence = [&](auto it) {
    for (auto j = msg.headers.begin(); j != it; ++j)
      if (j->first == it->first)
        return false;
    return !is_known(it->first);
  };
  auto for_each_header = [&](auto&& fn) {
    for (std::size_t i = 0; i < n_known; ++i) {
      auto* user = last_user_value(known[i].first);
      fn(known[i].first, user ? std::string_view{*user} : known[i].second);
    }
    for (auto it = msg.headers.begin(); it != msg.headers.end(); ++it)
      if (first_user_occurrence(it))
        fn(it->first, *last_user_value(it->first));
  };

  std::size_t block = 0;
  std::size_t count = 0;
  error_info err;
  for_each_header([&](std::string_view k, std::string_view v) {
    ++count;
    block += 4 + k.size() + v.size();
    if ((k.size() > 0xffff || v.size() > 0xffff) && !err)
      err = {errc::invalid_argument, "redis envelope: header '" + std::string{k.substr(0, 64)} +
                                         "' has a " + (k.size() > 0xffff ? "key" : "value") +
                                         " of " + std::to_string(std::max(k.size(), v.size())) +
                                         " bytes; FastStream's binary format allows at most 65535"};
  });
  if (err)
    return err;
  if (count > 0xffff || block + fixed_prefix + 2 > 0xffffffffULL)
    return {errc::invalid_argument, "redis envelope: too many or too large headers"};

  out.clear();
  out.reserve(fixed_prefix + 2 + block + msg.body.size());
  out.append(reinterpret_cast<const char*>(magic.data()), magic.size());
  put_u16(out, version_v1);
  put_u32(out, static_cast<std::uint32_t>(fixed_prefix));
  put_u32(out, static_cast<std::uint32_t>(fixed_prefix + 2 + block));
  put_u16(out, static_cast<std::uint16_t>(count));
  for_each_header([&](std::string_view k, std::string_view v) {
    put_u16(out, static_cast<std::uint16_t>(k.size()));
    out += k;
    put_u16(out, static_cast<std::uint16_t>(v.size()));
    out += v;
  });
  out += msg.body;
  return {};
}

envelope_format decode_envelope(std::string_view bytes, envelope& env) {
  auto fmt = envelope_format::raw;
  auto binary = decode_binary(bytes, env);
  if (binary == binary_result::decoded)
    fmt = envelope_format::binary_v1;
  else if (binary == binary_result::malformed) {
    // The magic cannot start JSON, so this is raw bytes; the caller warns.
    fmt = envelope_format::malformed_binary;
    env.headers = {};
    env.body.assign(bytes);
  } else if (decode_legacy_json(bytes, env))
    fmt = envelope_format::legacy_json;
  else {
    env.headers = {};
    env.body.assign(bytes);
  }
  fill_well_known(env);
  return fmt;
}

envelope_format decode_stream_entry(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields, envelope& env) {
  for (auto& [k, v] : fields)
    if (k == stream_data_field)
      return decode_envelope(v, env);
  boost::json::object obj;
  for (auto& [k, v] : fields)
    obj[k] = v;
  env.headers = {};
  env.body = boost::json::serialize(obj);
  fill_well_known(env);
  env.content_type = "application/json";
  return envelope_format::raw;
}

}  // namespace brook::redis
