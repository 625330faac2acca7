// libFuzzer target for the Redis envelope (brokers/redis/src/envelope.cpp): decode_envelope and
// decode_stream_entry on arbitrary bytes, and a round trip of whatever decodes as binary.
// Built and run by scripts/fuzz.sh, not by CI.
#include <brook/detail/ids.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "envelope.hpp"

// Ids are not under test, and a fixed one keeps a crash reproducible; the real generator lives
// in brook::core, which the fuzz build does not link.
std::string brook::detail::new_uuid() {
  return "00000000-0000-4000-8000-000000000000";
}

namespace {

using brook::redis::envelope_format;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "envelope_fuzz: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok)
    fail(what);
}

constexpr std::string_view magic{
    "\x89"
    "BIN\r\n\x1a\n",
    8};

// What the encoder writes for decoded headers given back as user headers: correlation_id
// first (the decoded one, or the one decode_envelope generated), then the rest in order.
brook::headers expected_after_round_trip(const brook::envelope& env) {
  brook::headers hs;
  hs.push_back({"correlation_id", env.correlation_id});
  for (auto& [k, v] : env.headers)
    if (k != "correlation_id")
      hs.push_back({k, v});
  return hs;
}

void check_decoded(std::string_view in, envelope_format fmt, const brook::envelope& env) {
  check(!env.correlation_id.empty() && !env.message_id.empty(), "well-known ids not filled");
  switch (fmt) {
    case envelope_format::raw:
    case envelope_format::malformed_binary:
      check(env.body == in, "raw payload not delivered whole");
      check(env.headers.empty(), "raw payload with headers");
      check((fmt == envelope_format::malformed_binary) == in.starts_with(magic),
            "malformed_binary exactly when the magic is there");
      break;
    case envelope_format::legacy_json:
      check(!in.starts_with(magic), "legacy JSON with the binary magic");
      break;
    case envelope_format::binary_v1: {
      check(in.starts_with(magic), "binary without the magic");
      check(env.body.size() <= in.size() && in.ends_with(env.body), "body is not a suffix");
      brook::outgoing out;
      out.body = env.body;
      out.headers = env.headers;
      out.correlation_id = env.correlation_id;
      std::string wire;
      if (auto err = brook::redis::encode_envelope(out, wire)) {
        // Character-counted headers may hold up to 4 x 65535 bytes, which byte lengths cannot.
        bool too_long = false;
        for (auto& [k, v] : env.headers)
          too_long = too_long || k.size() > 0xffff || v.size() > 0xffff;
        check(too_long, "re-encoding failed without an oversize header");
        break;
      }
      brook::envelope again;
      check(brook::redis::decode_envelope(wire, again) == envelope_format::binary_v1,
            "re-encoded envelope does not decode as binary");
      check(again.body == env.body, "round trip changed the body");
      check(again.headers == expected_after_round_trip(env), "round trip changed the headers");
      check(again.correlation_id == env.correlation_id, "round trip changed correlation_id");
      check(again.reply_to == env.reply_to && again.content_type == env.content_type,
            "round trip changed reply_to or content-type");
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in{reinterpret_cast<const char*>(data), size};

  brook::envelope env;
  check_decoded(in, brook::redis::decode_envelope(in, env), env);

  // The same bytes as a stream entry: fields split at NUL, paired; the first byte's low bit
  // names the first field `__data__`.
  if (in.empty())
    return 0;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  std::vector<std::string_view> tokens;
  auto rest = in.substr(1);
  for (std::size_t at; (at = rest.find('\0')) != std::string_view::npos; rest.remove_prefix(at + 1))
    tokens.push_back(rest.substr(0, at));
  tokens.push_back(rest);
  for (std::size_t i = 0; i + 1 < tokens.size(); i += 2)
    fields.emplace_back(tokens[i], tokens[i + 1]);
  if ((in[0] & 1) && !fields.empty())
    fields.front().first = brook::redis::stream_data_field;

  brook::envelope entry;
  auto fmt = brook::redis::decode_stream_entry(fields, entry);
  const std::string_view* data_field = nullptr;
  for (auto& [k, v] : fields)
    if (k == brook::redis::stream_data_field) {
      data_field = &v;
      break;
    }
  if (data_field) {
    brook::envelope direct;
    auto direct_fmt = brook::redis::decode_envelope(*data_field, direct);
    check(fmt == direct_fmt, "stream entry and its __data__ decode differently");
    check(entry.body == direct.body && entry.headers == direct.headers,
          "stream entry and its __data__ give different bodies or headers");
    check_decoded(*data_field, fmt, entry);
  } else {
    check(fmt == envelope_format::raw, "foreign stream entry not raw");
    check(entry.content_type == "application/json", "foreign stream entry not JSON");
    check(entry.body.starts_with('{') && entry.body.ends_with('}'), "not a JSON object");
  }
  return 0;
}
