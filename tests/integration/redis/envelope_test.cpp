// FastStream's Redis envelope and the URL parser: pure functions, no server.
#include "envelope.hpp"

#include <gtest/gtest.h>

#include <brook/redis/settings.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "resp.hpp"

namespace {

using brook::redis::decode_envelope;
using brook::redis::encode_envelope;
using brook::redis::envelope_format;

std::string bytes(std::initializer_list<int> xs) {
  std::string s;
  for (int x : xs)
    s.push_back(static_cast<char>(x));
  return s;
}

std::string u16_str(const std::string& s) {
  return bytes({static_cast<int>(s.size() >> 8), static_cast<int>(s.size() & 0xff)}) + s;
}

TEST(RedisEnvelope, EncodesTheWorkedExampleByteForByte) {
  brook::outgoing out;
  out.body = R"({"a":1})";
  out.correlation_id = "abc";
  out.content_type = "application/json";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));

  // wire-compat.md: 89 42 49 4e 0d 0a 1a 0a | 00 01 | 00 00 00 12 | 00 00 00 49 | 00 02 |
  // 00 0e "correlation_id" 00 03 "abc" 00 0c "content-type" 00 10 "application/json" | {"a":1}
  auto expected = bytes({0x89, 0x42, 0x49, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x01,
                         0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x49, 0x00, 0x02}) +
                  u16_str("correlation_id") + u16_str("abc") + u16_str("content-type") +
                  u16_str("application/json") + R"({"a":1})";
  ASSERT_EQ(wire.size(), 80u);
  ASSERT_EQ(expected.size(), 80u);
  for (std::size_t i = 0; i < wire.size(); ++i)
    EXPECT_EQ(static_cast<unsigned char>(wire[i]), static_cast<unsigned char>(expected[i]))
        << "byte " << i;
}

TEST(RedisEnvelope, OrdersWellKnownHeadersFirstAndLetsUserHeadersOverride) {
  brook::outgoing out;
  out.body = "hi";
  out.correlation_id = "c1";
  out.content_type = "text/plain";
  out.reply_to = "back";
  out.headers = {{"x-tenant", "acme"}, {"correlation_id", "user-cid"}};
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  brook::envelope env;
  ASSERT_EQ(decode_envelope(wire, env), envelope_format::binary_v1);
  // Python's dict.update keeps an overridden key in its original position.
  brook::headers expected{{"correlation_id", "user-cid"},
                          {"content-type", "text/plain"},
                          {"reply_to", "back"},
                          {"x-tenant", "acme"}};
  EXPECT_EQ(env.headers, expected);
  EXPECT_EQ(env.body, "hi");
  EXPECT_EQ(env.correlation_id, "user-cid");
  EXPECT_EQ(env.reply_to, "back");
  EXPECT_EQ(env.content_type, "text/plain");
  EXPECT_FALSE(env.message_id.empty());
}

TEST(RedisEnvelope, GeneratesACorrelationIdAndOmitsEmptyHeaders) {
  brook::outgoing out;
  out.body = std::string("\x00\x01\xff", 3);
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  brook::envelope env;
  ASSERT_EQ(decode_envelope(wire, env), envelope_format::binary_v1);
  ASSERT_EQ(env.headers.size(), 1u);
  EXPECT_EQ(env.correlation_id.size(), 36u);  // UUID4 text
  EXPECT_EQ(env.correlation_id[14], '4');
  EXPECT_EQ(env.body, out.body);
  EXPECT_TRUE(env.content_type.empty());
  EXPECT_TRUE(env.reply_to.empty());
}

TEST(RedisEnvelope, WritesMessageIdWhenGiven) {
  brook::outgoing out;
  out.correlation_id = "c";
  out.message_id = "m-1";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  brook::envelope env;
  decode_envelope(wire, env);
  EXPECT_EQ(env.message_id, "m-1");
  EXPECT_EQ(env.correlation_id, "c");
}

TEST(RedisEnvelope, RefusesHeadersLongerThanTheFormatAllows) {
  brook::outgoing out;
  out.headers.set("big", std::string(70000, 'x'));
  std::string wire;
  auto err = encode_envelope(out, wire);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code, brook::errc::invalid_argument);
  EXPECT_NE(err.message.find("'big'"), std::string::npos) << err.message;
}

TEST(RedisEnvelope, DecodesTheLegacyJsonEnvelope) {
  brook::envelope env;
  auto fmt = decode_envelope(
      R"({"data": "{\"x\": 2}", "headers": {"correlation_id": "old", "content-type": "application/json", "n": 5}})",
      env);
  ASSERT_EQ(fmt, envelope_format::legacy_json);
  EXPECT_EQ(env.body, R"({"x": 2})");
  EXPECT_EQ(env.correlation_id, "old");
  EXPECT_EQ(env.content_type, "application/json");
  ASSERT_NE(env.headers.find("n"), nullptr);
  EXPECT_EQ(*env.headers.find("n"), "5");  // non-string values keep their JSON text
}

TEST(RedisEnvelope, LegacyEnvelopeWithoutHeadersIsAccepted) {
  brook::envelope env;
  ASSERT_EQ(decode_envelope(R"({"data": "plain"})", env), envelope_format::legacy_json);
  EXPECT_EQ(env.body, "plain");
  EXPECT_TRUE(env.headers.empty());
}

TEST(RedisEnvelope, PlainJsonAndTextAreRawBytes) {
  for (std::string raw : {R"({"a": 1})", R"({"data": 5})", "hello", "", "[1,2]"}) {
    brook::envelope env;
    EXPECT_EQ(decode_envelope(raw, env), envelope_format::raw) << raw;
    EXPECT_EQ(env.body, raw);
    EXPECT_TRUE(env.headers.empty());
    EXPECT_TRUE(env.content_type.empty());
    EXPECT_FALSE(env.correlation_id.empty());
    EXPECT_EQ(env.correlation_id, env.message_id);  // one generated id, as FastStream does
  }
}

TEST(RedisEnvelope, TruncatedBinaryFallsBackToRawAndSaysItLookedLikeAnEnvelope) {
  brook::outgoing out;
  out.correlation_id = "abc";
  out.body = "payload";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  for (std::size_t cut : {8u, 10u, 19u, 25u, 40u}) {
    auto part = wire.substr(0, cut);
    brook::envelope env;
    EXPECT_EQ(decode_envelope(part, env), envelope_format::malformed_binary) << cut;
    EXPECT_EQ(env.body, part);
    EXPECT_TRUE(env.headers.empty());
    EXPECT_FALSE(env.correlation_id.empty());
  }
  // Shorter than the magic: nothing says it was meant to be an envelope.
  brook::envelope short_env;
  EXPECT_EQ(decode_envelope(wire.substr(0, 7), short_env), envelope_format::raw);
  auto bad_version = wire;
  bad_version[9] = 2;
  brook::envelope env;
  EXPECT_EQ(decode_envelope(bad_version, env), envelope_format::malformed_binary);
  EXPECT_EQ(env.body, bad_version);
}

// A header block the way FastStream (0.6 - 0.7.8, BinaryWriter.write_string) writes it: the
// u16 is len(str), the character count, followed by the UTF-8 bytes. The data offset is right
// (FastStream measures the finished block in bytes).
std::string faststream_envelope(const std::vector<std::pair<std::string, std::string>>& hs,
                                const std::string& body) {
  auto chars = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
      n += (c & 0xc0) != 0x80;
    return n;
  };
  std::string block;
  for (auto& [k, v] : hs)
    for (auto* s : {&k, &v}) {
      auto n = chars(*s);
      block += bytes({static_cast<int>(n >> 8), static_cast<int>(n & 0xff)}) + *s;
    }
  auto be = [](std::size_t v, int width) {
    std::string out;
    for (int shift = 8 * (width - 1); shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((v >> shift) & 0xff));
    return out;
  };
  std::string magic_and_version = bytes({0x89, 'B', 'I', 'N', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x01});
  return magic_and_version + be(18, 4) + be(20 + block.size(), 4) + be(hs.size(), 2) + block + body;
}

TEST(RedisEnvelope, DecodesFastStreamsCharacterCountLengths) {
  std::vector<std::pair<std::string, std::string>> hs{
      {"correlation_id", "c-1"}, {"content-type", "text/plain"}, {"greeting", "héllo wörld"},
      {"city", "日本"},          {"emoji", "\xf0\x9f\x8e\x89!"}, {"ключ", "значение"},
      {"x-ascii", "plain"}};
  auto wire = faststream_envelope(hs, "body ü");
  brook::envelope env;
  ASSERT_EQ(decode_envelope(wire, env), envelope_format::binary_v1);
  brook::headers expected;
  for (auto& [k, v] : hs)
    expected.set(k, v);
  EXPECT_EQ(env.headers, expected);
  EXPECT_EQ(env.body, "body ü");
  EXPECT_EQ(env.correlation_id, "c-1");
  EXPECT_EQ(env.content_type, "text/plain");
}

TEST(RedisEnvelope, DecodesACharacterCountedValueAsTheLastHeader) {
  // Read with byte lengths, the last value is cut short without overrunning anything: only
  // the data offset shows that the byte reading is wrong.
  auto wire = faststream_envelope({{"correlation_id", "c"}, {"city", "日本"}}, "{}");
  brook::envelope env;
  ASSERT_EQ(decode_envelope(wire, env), envelope_format::binary_v1);
  ASSERT_NE(env.headers.find("city"), nullptr);
  EXPECT_EQ(*env.headers.find("city"), "日本");
  EXPECT_EQ(env.body, "{}");
}

TEST(RedisEnvelope, AsciiFastStreamEnvelopesAreByteIdenticalToOurs) {
  brook::outgoing out;
  out.correlation_id = "abc";
  out.content_type = "application/json";
  out.body = R"({"a":1})";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  EXPECT_EQ(wire,
            faststream_envelope({{"correlation_id", "abc"}, {"content-type", "application/json"}},
                                R"({"a":1})"));
}

TEST(RedisEnvelope, KeepsWritingByteLengthsForNonAsciiHeaders) {
  brook::outgoing out;
  out.correlation_id = "c";
  out.headers = {{"city", "日本"}};
  out.body = "b";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  // correlation_id, c, city, then the value's length: 6 bytes, not 2 characters.
  auto at = 20 + 2 + 14 + 2 + 1 + 2 + 4;
  EXPECT_EQ(static_cast<unsigned char>(wire[at]), 0);
  EXPECT_EQ(static_cast<unsigned char>(wire[at + 1]), 6);
  brook::envelope env;
  ASSERT_EQ(decode_envelope(wire, env), envelope_format::binary_v1);
  EXPECT_EQ(*env.headers.find("city"), "日本");
  EXPECT_EQ(env.body, "b");
}

TEST(RedisEnvelope, LengthsThatFitNeitherWayAreMalformed) {
  auto wire = faststream_envelope({{"correlation_id", "c"}, {"k", "日本"}}, "body");
  // Too long as bytes and as characters.
  auto too_long = wire;
  too_long[20 + 2 + 14 + 2 + 1 + 2 + 1 + 1] = 9;  // "k"'s value length 2 -> 9
  brook::envelope env;
  EXPECT_EQ(decode_envelope(too_long, env), envelope_format::malformed_binary);
  EXPECT_EQ(env.body, too_long);
  EXPECT_TRUE(env.headers.empty());
  // Character counting over bytes that are not UTF-8 fails too.
  auto not_utf8 = faststream_envelope({{"k", "\xff\xfe"}}, "x");
  not_utf8[20 + 2 + 1 + 1] = 1;  // declares one character for two invalid bytes
  brook::envelope env2;
  EXPECT_EQ(decode_envelope(not_utf8, env2), envelope_format::malformed_binary);
  EXPECT_EQ(env2.body, not_utf8);
  // A character count that reaches past the data offset into the body is rejected.
  auto past = faststream_envelope({{"k", "é"}}, "ab");
  past[20 + 2 + 1 + 1] = 3;  // "é" + "ab" as three characters would eat the body
  brook::envelope env3;
  EXPECT_EQ(decode_envelope(past, env3), envelope_format::malformed_binary);
}

TEST(RedisEnvelope, GarbageAfterTheMagicIsMalformedNotLost) {
  std::string magic = bytes({0x89, 0x42, 0x49, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a});
  for (std::string tail : {std::string{}, std::string("\x00\x01", 2),
                           std::string("\x00\x01\xff\xff\xff\xff\x00\x00\x00\x00", 10),
                           std::string("\x00\x01\x00\x00\x00\x12\x00\x00\x00\x14\xff\xff", 12)}) {
    brook::envelope env;
    EXPECT_EQ(decode_envelope(magic + tail, env), envelope_format::malformed_binary) << tail.size();
    EXPECT_EQ(env.body, magic + tail);
  }
}

TEST(RedisEnvelope, StreamEntryUsesTheDataField) {
  brook::outgoing out;
  out.correlation_id = "s1";
  out.body = "b";
  std::string wire;
  ASSERT_FALSE(encode_envelope(out, wire));
  brook::envelope env;
  auto fmt = brook::redis::decode_stream_entry({{"other", "x"}, {"__data__", wire}}, env);
  EXPECT_EQ(fmt, envelope_format::binary_v1);
  EXPECT_EQ(env.body, "b");
  EXPECT_EQ(env.correlation_id, "s1");
}

TEST(RedisEnvelope, ForeignStreamEntryIsAJsonObjectOfItsFields) {
  brook::envelope env;
  brook::redis::decode_stream_entry({{"a", "1"}, {"name", "x\"y"}}, env);
  EXPECT_EQ(env.body, R"({"a":"1","name":"x\"y"})");
  EXPECT_EQ(env.content_type, "application/json");
  EXPECT_TRUE(env.headers.empty());
}

TEST(RedisResp, FormatsCommandsAndDescribesThem) {
  std::string cmd;
  brook::redis::append_array_header(cmd, 3);
  brook::redis::append_bulk(cmd, "RPUSH");
  brook::redis::append_bulk(cmd, "orders");
  brook::redis::append_bulk(cmd, std::string("a\r\n\0b", 5));
  EXPECT_EQ(cmd, std::string("*3\r\n$5\r\nRPUSH\r\n$6\r\norders\r\n$5\r\na\r\n\0b\r\n", 38));
  EXPECT_EQ(brook::redis::describe_command(cmd), "RPUSH orders");
  EXPECT_EQ(brook::redis::describe_command("garbage"), "");
}

TEST(RedisUrl, ParsesAllParts) {
  brook::redis::endpoint ep;
  ASSERT_FALSE(brook::redis::parse_url("redis://alice:s%40cret@example.org:7000/3", ep));
  EXPECT_EQ(ep.host, "example.org");
  EXPECT_EQ(ep.port, 7000);
  EXPECT_EQ(ep.user, "alice");
  EXPECT_EQ(ep.password, "s@cret");
  EXPECT_EQ(ep.db, 3);

  ASSERT_FALSE(brook::redis::parse_url("redis://localhost", ep));
  EXPECT_EQ(ep.host, "localhost");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(ep.db, 0);
  EXPECT_TRUE(ep.password.empty());

  ASSERT_FALSE(brook::redis::parse_url("redis://:pw@127.0.0.1:6390/", ep));
  EXPECT_EQ(ep.password, "pw");
  EXPECT_TRUE(ep.user.empty());

  ASSERT_FALSE(brook::redis::parse_url("redis://[::1]:6390/2", ep));
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, 6390);
  EXPECT_EQ(ep.db, 2);
}

TEST(RedisUrl, ExplainsWhatIsWrong) {
  struct bad_case {
    const char* url;
    const char* says;
  };
  for (auto [url, says] : std::vector<bad_case>{{"http://x", "scheme"},
                                                {"rediss://x", "TLS"},
                                                {"redis://", "host is missing"},
                                                {"redis://h:99999", "port"},
                                                {"redis://h:abc", "port"},
                                                {"redis://h/x", "database"},
                                                {"redis://h?db=1", "query"},
                                                {"redis://u:%zz@h", "percent"}}) {
    brook::redis::endpoint ep;
    auto err = brook::redis::parse_url(url, ep);
    ASSERT_TRUE(err) << url;
    EXPECT_EQ(err.code, brook::errc::invalid_argument);
    EXPECT_NE(err.message.find(says), std::string::npos) << url << ": " << err.message;
  }
}

TEST(RedisUrl, NeverEchoesThePassword) {
  brook::redis::endpoint ep;
  auto err = brook::redis::parse_url("redis://bob:topsecret@h:0", ep);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.message.find("topsecret"), std::string::npos) << err.message;
}

}  // namespace
