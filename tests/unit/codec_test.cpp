#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <brook/codec.hpp>
#include <cstdint>
#include <limits>
#include <list>
#include <ostream>
#include <string_view>
#include <thread>

namespace brook {
// Readable failures for EXPECT_EQ on errors.
void PrintTo(const decode_error& e, std::ostream* os) {
  *os << e.to_string();
}
}  // namespace brook

namespace codec_test {

enum class status { pending, paid, shipped };
BOOST_DESCRIBE_ENUM(status, pending, paid, shipped)

struct address {
  std::string street;
  std::string zip;
  std::optional<std::string> country;
  bool operator==(const address&) const = default;
};
BOOST_DESCRIBE_STRUCT(address, (), (street, zip, country))

struct line_item {
  std::string sku;
  std::int32_t qty = 0;
  double price = 0;
  bool operator==(const line_item&) const = default;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty, price))

struct order {
  std::string id;
  status state = status::pending;
  address ship_to;
  std::vector<line_item> items;
  std::map<std::string, double> prices;
  std::optional<std::string> note;
  std::int64_t ts = 0;
  bool operator==(const order&) const = default;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, state, ship_to, items, prices, note, ts))

struct scalars {
  bool flag = false;
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f32 = 0;
  double f64 = 0;
  std::string text;
  brook::bytes raw;
  boost::json::value any;
  bool operator==(const scalars&) const = default;
};
BOOST_DESCRIBE_STRUCT(scalars, (),
                      (flag, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, text, raw, any))

struct containers {
  std::vector<int> ints;
  std::vector<std::vector<int>> grid;
  std::vector<bool> bits;
  std::vector<std::optional<int>> holes;
  std::map<std::string, std::optional<int>> sparse;
  std::optional<std::vector<std::string>> tags;
  std::map<std::string, line_item> by_sku;
  bool operator==(const containers&) const = default;
};
BOOST_DESCRIBE_STRUCT(containers, (), (ints, grid, bits, holes, sparse, tags, by_sku))

struct node {
  std::string name;
  std::vector<node> children;
  bool operator==(const node&) const = default;
};
BOOST_DESCRIBE_STRUCT(node, (), (name, children))

struct base_event {
  std::string event_id;
  std::int64_t ts = 0;
};
BOOST_DESCRIBE_STRUCT(base_event, (), (event_id, ts))

struct user_created : base_event {
  std::string user;
};
BOOST_DESCRIBE_STRUCT(user_created, (base_event), (user))

namespace billing {
struct item {
  double amount = 0;
};
BOOST_DESCRIBE_STRUCT(item, (), (amount))
}  // namespace billing

namespace catalog {
struct item {
  std::string title;
};
BOOST_DESCRIBE_STRUCT(item, (), (title))
}  // namespace catalog

struct invoice {
  billing::item charge;
  catalog::item product;
};
BOOST_DESCRIBE_STRUCT(invoice, (), (charge, product))

struct empty_message {};
BOOST_DESCRIBE_STRUCT(empty_message, (), ())

template <class T>
struct page {
  std::vector<T> items;
  std::optional<std::string> next;
  BOOST_DESCRIBE_CLASS(page, (), (items, next), (), ())
};

struct envelope {
  std::string kind;
  boost::json::value payload;
};
BOOST_DESCRIBE_STRUCT(envelope, (), (kind, payload))

// Functions named like the codec's must not be picked up by argument-dependent lookup.
namespace lookalike {
struct point {
  int x = 0;
};
BOOST_DESCRIBE_STRUCT(point, (), (x))
std::string to_string(const point&) {
  return "hijacked";
}
template <class T>
std::optional<brook::decode_error> parse(std::string_view, T&, const brook::codec_options& = {}) {
  return brook::decode_error{"hijacked", ""};
}
}  // namespace lookalike

enum class undescribed_enum { a };
struct undescribed_struct {
  int x = 0;
};

namespace codec = brook::codec;
using brook::codec_options;
using brook::decode_error;
using ::testing::ElementsAre;
using int_map = std::map<std::string, int>;

constexpr std::string_view order_json =
    R"({"id":"ord-1","state":"paid","ship_to":{"street":"1 Main St","zip":"10115"},)"
    R"("items":[{"sku":"SKU-1","qty":2,"price":9.99},{"sku":"SKU-2","qty":1,"price":120.5}],)"
    R"("prices":{"eur":9.99,"usd":10.5},"note":"leave at door","ts":1700000000123})";

order sample_order() {
  return {"ord-1",
          status::paid,
          {"1 Main St", "10115", std::nullopt},
          {{"SKU-1", 2, 9.99}, {"SKU-2", 1, 120.5}},
          {{"eur", 9.99}, {"usd", 10.5}},
          "leave at door",
          1700000000123};
}

/// Replaces the first `from` in `s`; the test fails if it is absent.
std::string with(std::string_view s, std::string_view from, std::string_view to) {
  std::string out{s};
  auto pos = out.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos)
    out.replace(pos, from.size(), to);
  return out;
}

/// The error of decoding `text` as `T`, or a test failure when it decodes.
template <class T>
decode_error error_of(std::string_view text, const codec_options& o = {}) {
  T out{};
  auto err = codec::parse(text, out, o);
  EXPECT_TRUE(err.has_value()) << text;
  return err.value_or(decode_error{"<none>", "decoded without error"});
}

template <class T>
T decoded(std::string_view text, const codec_options& o = {}) {
  T out{};
  auto err = codec::parse(text, out, o);
  EXPECT_FALSE(err.has_value()) << err->to_string();
  return out;
}

/// Compact text of a JSON literal, keeping its key order.
std::string compact(std::string_view json_text) {
  return codec::to_string(boost::json::parse(json_text));
}

TEST(CodecTraits, AcceptsEveryBodyShape) {
  static_assert(codec::is_body_v<order>);
  static_assert(codec::is_body_v<status>);
  static_assert(codec::is_body_v<std::string>);
  static_assert(codec::is_body_v<brook::bytes>);
  static_assert(codec::is_body_v<boost::json::value>);
  static_assert(codec::is_body_v<bool>);
  static_assert(codec::is_body_v<std::int8_t>);
  static_assert(codec::is_body_v<std::uint64_t>);
  static_assert(codec::is_body_v<float>);
  static_assert(codec::is_body_v<double>);
  static_assert(codec::is_body_v<std::vector<order>>);
  static_assert(codec::is_body_v<std::optional<order>>);
  static_assert(codec::is_body_v<std::map<std::string, std::vector<std::optional<int>>>>);
  static_assert(codec::is_body_v<node>);
  static_assert(codec::is_body_v<user_created>);
  static_assert(codec::is_body_v<empty_message>);
  static_assert(codec::is_body_v<page<line_item>>);
  SUCCEED();
}

TEST(CodecTraits, RejectsOtherTypes) {
  static_assert(!codec::is_body_v<char>);
  static_assert(!codec::is_body_v<char8_t>);
  static_assert(!codec::is_body_v<long double>);
  static_assert(!codec::is_body_v<int*>);
  static_assert(!codec::is_body_v<std::string_view>);
  static_assert(!codec::is_body_v<std::list<int>>);
  static_assert(!codec::is_body_v<std::map<int, int>>);
  static_assert(!codec::is_body_v<std::optional<std::optional<int>>>);
  static_assert(!codec::is_body_v<std::vector<undescribed_struct>>);
  static_assert(!codec::is_body_v<undescribed_enum>);
  static_assert(!codec::is_body_v<undescribed_struct>);
  static_assert(!codec::is_body_v<const order>);
  SUCCEED();
}

TEST(CodecTypeName, DescribedTypesUseTheUnqualifiedName) {
  EXPECT_EQ(codec::type_name<order>(), "order");
  EXPECT_EQ(codec::type_name<user_created>(), "user_created");
  EXPECT_EQ(codec::type_name<status>(), "status");
  EXPECT_EQ(codec::type_name<catalog::item>(), "item");
  EXPECT_EQ(codec::type_name<page<line_item>>(), "page<line_item>");
}

TEST(CodecTypeName, OtherShapesUseSchemaWords) {
  EXPECT_EQ(codec::type_name<std::string>(), "string");
  EXPECT_EQ(codec::type_name<bool>(), "boolean");
  EXPECT_EQ(codec::type_name<std::uint16_t>(), "integer");
  EXPECT_EQ(codec::type_name<double>(), "number");
  EXPECT_EQ(codec::type_name<brook::bytes>(), "bytes");
  EXPECT_EQ(codec::type_name<boost::json::value>(), "any");
  EXPECT_EQ(codec::type_name<std::vector<order>>(), "array<order>");
  EXPECT_EQ(codec::type_name<int_map>(), "map<integer>");
  EXPECT_EQ(codec::type_name<std::optional<status>>(), "optional<status>");
}

TEST(CodecDecode, NestedStruct) {
  EXPECT_EQ(decoded<order>(order_json), sample_order());
}

TEST(CodecDecode, EveryScalarAtItsLimits) {
  auto s = decoded<scalars>(
      R"({"flag":true,"i8":-128,"u8":255,"i16":-32768,"u16":65535,"i32":-2147483648,)"
      R"("u32":4294967295,"i64":-9223372036854775808,"u64":18446744073709551615,)"
      R"("f32":0.5,"f64":-1.25e-3,"text":"h\u00e9\"\n","raw":"ab\u0000c","any":{"k":[1,null]}})");
  EXPECT_TRUE(s.flag);
  EXPECT_EQ(s.i8, std::numeric_limits<std::int8_t>::min());
  EXPECT_EQ(s.u8, std::numeric_limits<std::uint8_t>::max());
  EXPECT_EQ(s.i16, std::numeric_limits<std::int16_t>::min());
  EXPECT_EQ(s.u16, std::numeric_limits<std::uint16_t>::max());
  EXPECT_EQ(s.i32, std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(s.u32, std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(s.i64, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(s.u64, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(s.f32, 0.5f);
  EXPECT_EQ(s.f64, -1.25e-3);
  EXPECT_EQ(s.text, "h\xc3\xa9\"\n");
  EXPECT_EQ(s.raw, (brook::bytes{std::byte{'a'}, std::byte{'b'}, std::byte{0}, std::byte{'c'}}));
  EXPECT_EQ(s.any, boost::json::parse(R"({"k":[1,null]})"));
}

TEST(CodecDecode, IntegersAreAcceptedForFloatingPoint) {
  auto s = decoded<scalars>(
      R"({"flag":false,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,)"
      R"("f32":3,"f64":18446744073709551615,"text":"","raw":"","any":null})");
  EXPECT_EQ(s.f32, 3.0f);
  EXPECT_EQ(s.f64, 18446744073709551615.0);
  EXPECT_TRUE(s.any.is_null());
}

TEST(CodecDecode, Containers) {
  auto c = decoded<containers>(
      R"({"ints":[1,2,3],"grid":[[1],[],[2,3]],"bits":[true,false,true],"holes":[1,null,3],)"
      R"("sparse":{"a":1,"b":null},"tags":["x"],"by_sku":{"s1":{"sku":"s1","qty":4,"price":1}}})");
  EXPECT_THAT(c.ints, ElementsAre(1, 2, 3));
  EXPECT_EQ(c.grid, (std::vector<std::vector<int>>{{1}, {}, {2, 3}}));
  EXPECT_THAT(c.bits, ElementsAre(true, false, true));
  EXPECT_THAT(c.holes, ElementsAre(1, std::nullopt, 3));
  EXPECT_EQ(c.sparse, (std::map<std::string, std::optional<int>>{{"a", 1}, {"b", std::nullopt}}));
  EXPECT_EQ(c.tags, (std::vector<std::string>{"x"}));
  EXPECT_EQ(c.by_sku.at("s1"), (line_item{"s1", 4, 1.0}));
}

TEST(CodecDecode, AbsentAndNullOptionalsAreNullopt) {
  auto absent = decoded<order>(with(order_json, R"("note":"leave at door",)", ""));
  EXPECT_EQ(absent.note, std::nullopt);
  auto null = decoded<order>(with(order_json, R"("note":"leave at door")", R"("note":null)"));
  EXPECT_EQ(null.note, std::nullopt);
  auto c =
      decoded<containers>(R"({"ints":[],"grid":[],"bits":[],"holes":[],"sparse":{},"by_sku":{}})");
  EXPECT_EQ(c.tags, std::nullopt);
}

TEST(CodecDecode, UnknownFieldsAreIgnoredByDefault) {
  auto o = decoded<order>(with(order_json, R"("ts":)", R"("extra":{"deep":[1]},"ts":)"));
  EXPECT_EQ(o, sample_order());
}

TEST(CodecDecode, MembersInAnyOrder) {
  auto li = decoded<line_item>(R"({"price":1.5,"qty":3,"sku":"a"})");
  EXPECT_EQ(li, (line_item{"a", 3, 1.5}));
}

TEST(CodecDecode, ReusesTheTargetAndResetsWhatIsAbsent) {
  order o = sample_order();
  o.items.resize(5);
  o.prices["gbp"] = 1;
  auto err = codec::parse(R"({"id":"b","state":"shipped","ship_to":{"street":"s","zip":"z"},)"
                          R"("items":[{"sku":"n","qty":7,"price":0}],"prices":{},"ts":1})",
                          o);
  ASSERT_FALSE(err) << err->to_string();
  EXPECT_EQ(
      o,
      (order{"b", status::shipped, {"s", "z", std::nullopt}, {{"n", 7, 0}}, {}, std::nullopt, 1}));
}

TEST(CodecDecode, InheritedMembers) {
  auto u = decoded<user_created>(R"({"event_id":"e1","ts":5,"user":"ann"})");
  EXPECT_EQ(u.event_id, "e1");
  EXPECT_EQ(u.ts, 5);
  EXPECT_EQ(u.user, "ann");
  EXPECT_EQ(error_of<user_created>(R"({"ts":5,"user":"ann"})"),
            (decode_error{"$.event_id", "missing required field"}));
}

TEST(CodecDecode, RecursiveStruct) {
  auto n = decoded<node>(R"({"name":"a","children":[{"name":"b","children":[]}]})");
  EXPECT_EQ(n, (node{"a", {node{"b", {}}}}));
}

TEST(CodecDecode, TopLevelNonStructBodies) {
  EXPECT_EQ(decoded<std::vector<int>>("[1,2]"), (std::vector<int>{1, 2}));
  EXPECT_EQ(decoded<std::string>(R"("hi")"), "hi");
  EXPECT_EQ(decoded<status>(R"("shipped")"), status::shipped);
  EXPECT_EQ(decoded<std::optional<int>>("null"), std::nullopt);
  EXPECT_EQ(decoded<boost::json::value>(R"({"a":[1.5]})"), boost::json::parse(R"({"a":[1.5]})"));
}

TEST(CodecDecode, FromJsonOnAValue) {
  order o;
  EXPECT_FALSE(codec::from_json(boost::json::parse(order_json), o));
  EXPECT_EQ(o, sample_order());
  auto err =
      codec::from_json(boost::json::parse(R"({"sku":"a","qty":"1","price":1})"), o.items.at(0));
  EXPECT_EQ(err, (decode_error{"$.qty", "expected integer, got string"}));
}

TEST(CodecDecode, JsonValueMembersOutliveTheParseArena) {
  envelope first =
      decoded<envelope>(R"({"kind":"a","payload":{"text":"first payload","n":[1,2,3]}})");
  envelope second = decoded<envelope>(R"({"kind":"b","payload":{"text":"second one"}})");
  EXPECT_EQ(first.payload, boost::json::parse(R"({"text":"first payload","n":[1,2,3]})"));
  EXPECT_EQ(second.payload, boost::json::parse(R"({"text":"second one"})"));
}

TEST(CodecDecode, BodiesLargerThanTheArena) {
  std::string text = "[";
  for (int i = 0; i < 20000; ++i)
    text += std::to_string(i) + ",";
  text.back() = ']';
  auto v = decoded<std::vector<int>>(text);
  ASSERT_EQ(v.size(), 20000u);
  EXPECT_EQ(v.back(), 19999);
}

TEST(CodecDecode, ParserRecoversAfterAnError) {
  EXPECT_EQ(error_of<order>(order_json.substr(0, 40)).path, "$");
  EXPECT_EQ(decoded<order>(order_json), sample_order());
  boost::json::value v;
  EXPECT_TRUE(codec::parse("[1,", v));
  EXPECT_FALSE(codec::parse("[1]", v));
  EXPECT_EQ(v, boost::json::parse("[1]"));
}

TEST(CodecDecode, ParsesConcurrentlyOnSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        order o;
        auto text =
            with(order_json, R"("ts":1700000000123)", R"("ts":)" + std::to_string(t * 10000 + i));
        if (codec::parse(text, o) || o.ts != t * 10000 + i || o.items.size() != 2)
          ++failures[static_cast<std::size_t>(t)];
      }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_THAT(failures, ElementsAre(0, 0, 0, 0));
}

// -- the streaming decoder (text straight into the struct) -------------------

namespace sax = brook::detail::codec::sax;

/// Decodes `text` with the stream alone, expecting it to finish, and checks
/// the result against the DOM decoder's on the same starting object.
template <class T>
void expect_streamed_like_dom(std::string_view text, const T& start = T{},
                              const codec_options& o = {}) {
  T streamed = start;
  EXPECT_EQ(sax::run(text, {&streamed, &sax::ops_of<T>()}, o), sax::outcome::ok) << text;
  T dom = start;
  EXPECT_FALSE(codec::from_json(boost::json::parse(text), dom, o)) << text;
  EXPECT_EQ(codec::to_string(streamed), codec::to_string(dom)) << text;
}

TEST(CodecStream, DecodesWhatTheDomDecodes) {
  expect_streamed_like_dom<order>(order_json);
  expect_streamed_like_dom<node>(
      R"({"name":"a","children":[{"name":"b","children":[{"name":"c","children":[]}]},)"
      R"({"children":[],"name":"d"}]})");
  expect_streamed_like_dom<std::vector<std::vector<int>>>("[[1,2],[],[3]]");
  expect_streamed_like_dom<std::map<std::string, line_item>>(
      R"({"a":{"sku":"x","qty":1,"price":2},"b":{"price":3,"qty":4,"sku":"y"}})");
  expect_streamed_like_dom<std::vector<std::optional<std::int16_t>>>("[1,null,-3]");
  expect_streamed_like_dom<std::optional<std::vector<std::string>>>(R"(["a","b"])");
  expect_streamed_like_dom<std::optional<std::vector<std::string>>>("null");
  expect_streamed_like_dom<page<line_item>>(R"({"items":[{"sku":"s","qty":1,"price":0.5}]})");
  expect_streamed_like_dom<user_created>(R"({"user":"ada","event_id":"e1","ts":5})");
  expect_streamed_like_dom<empty_message>(R"({"anything":[1,{"x":2}]})");
  expect_streamed_like_dom<status>(R"("shipped")");
  expect_streamed_like_dom<double>("-1.5e3");
  expect_streamed_like_dom<std::uint64_t>("18446744073709551615");
  expect_streamed_like_dom<brook::bytes>(R"("raw\u0000bytes")");
}

TEST(CodecStream, SkipsUnknownFieldsWhateverTheirShape) {
  expect_streamed_like_dom<line_item>(
      R"({"extra":{"deep":[[{"sku":"nope"}],{"a":null}]},"sku":"s","more":[],"qty":2,)"
      R"("x":"y","price":1.25,"last":{}})");
}

TEST(CodecStream, LongEscapedStringsAndKeysArriveWhole) {
  // Past the parser's internal buffer, strings and keys arrive in parts.
  std::string text(9000, 'a');
  for (std::size_t i = 0; i < text.size(); i += 7)
    text[i] = '"';
  std::string escaped = codec::to_string(text);
  auto map_text = "{" + escaped + ":1," + escaped.substr(0, 5000) + "\":2}";
  expect_streamed_like_dom<int_map>(map_text);
  expect_streamed_like_dom<line_item>(R"({"sku":)" + escaped + R"(,"qty":1,"price":2})");
  auto item = decoded<line_item>(R"({"sku":)" + escaped + R"(,"qty":1,"price":2})");
  EXPECT_EQ(item.sku, text);
}

TEST(CodecStream, ReusesTheTargetLikeTheDom) {
  order full = sample_order();
  full.items.resize(5);
  full.note = "old note";
  // Fewer items than before, no note: vectors shrink and the optional resets.
  expect_streamed_like_dom<order>(with(with(order_json, R"(,"note":"leave at door")", ""),
                                       R"(,{"sku":"SKU-2","qty":1,"price":120.5})", ""),
                                  full);
  std::map<std::string, int> stale{{"old", 1}};
  expect_streamed_like_dom<int_map>(R"({"new":2})", stale);
}

TEST(CodecStream, StopsAtTheFirstMisfitAndTheDomWordsTheError) {
  line_item x;
  EXPECT_EQ(sax::run(R"({"sku":1,"qty":2,"price":3})", {&x, &sax::ops_of<line_item>()}, {}),
            sax::outcome::mismatch);
  EXPECT_EQ(sax::run(R"({"sku":"a","qty":2})", {&x, &sax::ops_of<line_item>()}, {}),
            sax::outcome::mismatch);
  EXPECT_EQ(sax::run(R"({"sku":"a","qty":2,"price":3,"x":0})", {&x, &sax::ops_of<line_item>()},
                     {.strict = true}),
            sax::outcome::mismatch);
  EXPECT_EQ(sax::run(R"({"sku":"a","qty":2,"price":3} x)", {&x, &sax::ops_of<line_item>()}, {}),
            sax::outcome::mismatch);
  EXPECT_EQ(error_of<line_item>(R"({"sku":"a","qty":2.5,"price":3})"),
            (decode_error{"$.qty", "expected integer, got double"}));
}

// Found by fuzz/json_codec_fuzz.cpp: the stream sees every occurrence of a duplicate key, the
// DOM only the last, so a wrong-typed earlier one stops the stream and the DOM decides.
TEST(CodecStream, DuplicateKeysEndWithTheLastOccurrenceLikeTheDom) {
  std::string_view text = R"({"sku":"a","qty":-218.5e-616,"qty":8,"price":1})";
  line_item x;
  EXPECT_EQ(sax::run(text, {&x, &sax::ops_of<line_item>()}, {}), sax::outcome::mismatch);
  line_item got;
  ASSERT_FALSE(codec::decode_body(text, "application/json", got));
  EXPECT_EQ(got, (line_item{"a", 8, 1}));
  // Every occurrence fits: the stream keeps the last one too.
  expect_streamed_like_dom<line_item>(R"({"sku":"a","qty":1,"price":1,"qty":2,"sku":"b"})");
  expect_streamed_like_dom<order>(
      R"({"id":"o","state":"paid","ship_to":{"street":"s","zip":"z","country":"c"},"items":[],)"
      R"("prices":{},"ts":1,"ship_to":{"street":"t","zip":"y"},"items":[{"sku":"k","qty":1,)"
      R"("price":2}],"note":"n","note":null})");
}

TEST(CodecStream, TypesWithoutATableGoThroughTheDom) {
  envelope e;
  EXPECT_EQ(sax::run(R"({"kind":"a","payload":{"n":1}})", {&e, &sax::ops_of<envelope>()}, {}),
            sax::outcome::unsupported);
  std::vector<bool> bits;
  EXPECT_EQ(sax::run("[true]", {&bits, &sax::ops_of<std::vector<bool>>()}, {}),
            sax::outcome::unsupported);
  // Still decoded, through the DOM, every time.
  for (int i = 0; i < 3; ++i) {
    auto got = decoded<envelope>(R"({"kind":"a","payload":{"n":)" + std::to_string(i) + "}}");
    EXPECT_EQ(got.payload, boost::json::parse(R"({"n":)" + std::to_string(i) + "}"));
  }
  EXPECT_EQ(decoded<std::vector<bool>>("[true,false]"), (std::vector<bool>{true, false}));
}

TEST(CodecErrors, WrongTypeInAVectorElement) {
  EXPECT_EQ(error_of<order>(with(order_json, R"("qty":1)", R"("qty":"1")")),
            (decode_error{"$.items[1].qty", "expected integer, got string"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("qty":1)", R"("qty":"1")")).to_string(),
            "$.items[1].qty: expected integer, got string");
}

TEST(CodecErrors, WrongTypeInANestedStruct) {
  EXPECT_EQ(error_of<order>(with(order_json, R"("zip":"10115")", R"("zip":10115)")),
            (decode_error{"$.ship_to.zip", "expected string, got int64"}));
}

TEST(CodecErrors, MissingRequiredField) {
  EXPECT_EQ(error_of<order>(with(order_json, R"(,"zip":"10115")", "")),
            (decode_error{"$.ship_to.zip", "missing required field"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("id":"ord-1",)", "")),
            (decode_error{"$.id", "missing required field"}));
}

TEST(CodecErrors, MembersWithDefaultsAreStillRequired) {
  EXPECT_EQ(error_of<line_item>(R"({"sku":"a","price":1})"),
            (decode_error{"$.qty", "missing required field"}));
}

TEST(CodecErrors, UnknownEnumValueListsTheAllowedNames) {
  EXPECT_EQ(error_of<order>(with(order_json, R"("state":"paid")", R"("state":"lost")")),
            (decode_error{"$.state", "unknown enum value 'lost' (allowed: pending|paid|shipped)"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("state":"paid")", R"("state":1)")),
            (decode_error{"$.state", "expected string, got int64"}));
  EXPECT_EQ(error_of<status>(R"("Paid")"),
            (decode_error{"$", "unknown enum value 'Paid' (allowed: pending|paid|shipped)"}));
}

TEST(CodecErrors, MapValuesUseBracketedQuotedKeys) {
  EXPECT_EQ(error_of<order>(with(order_json, R"("eur":9.99)", R"("eur":"9.99")")),
            (decode_error{R"($.prices["eur"])", "expected number, got string"}));
  EXPECT_EQ(error_of<int_map>(R"({"a \"b\"":true})"),
            (decode_error{R"($["a \"b\""])", "expected integer, got bool"}));
  EXPECT_EQ(error_of<containers>(
                R"({"ints":[],"grid":[],"bits":[],"holes":[],"sparse":{"k":true},"by_sku":{}})"),
            (decode_error{R"($.sparse["k"])", "expected integer, got bool"}));
  EXPECT_EQ(error_of<containers>(R"({"ints":[],"grid":[],"bits":[],"holes":[],"sparse":{},)"
                                 R"("by_sku":{"a":{"sku":"a","price":1}}})"),
            (decode_error{R"($.by_sku["a"].qty)", "missing required field"}));
}

TEST(CodecErrors, OptionalWithTheWrongType) {
  EXPECT_EQ(error_of<order>(with(order_json, R"("note":"leave at door")", R"("note":5)")),
            (decode_error{"$.note", "expected string, got int64"}));
  EXPECT_EQ(
      error_of<containers>(
          R"({"ints":[],"grid":[],"bits":[],"holes":[],"sparse":{},"tags":["a",2],"by_sku":{}})"),
      (decode_error{"$.tags[1]", "expected string, got int64"}));
}

TEST(CodecErrors, NestedVectorsAndVectorsOfBoolAndOptional) {
  constexpr std::string_view empty =
      R"({"ints":[],"grid":[],"bits":[],"holes":[],"sparse":{},"by_sku":{}})";
  EXPECT_EQ(error_of<containers>(with(empty, R"("grid":[])", R"("grid":[[1],["x"]])")),
            (decode_error{"$.grid[1][0]", "expected integer, got string"}));
  EXPECT_EQ(error_of<containers>(with(empty, R"("bits":[])", R"("bits":[true,false,1])")),
            (decode_error{"$.bits[2]", "expected bool, got int64"}));
  EXPECT_EQ(error_of<containers>(with(empty, R"("holes":[])", R"("holes":[1,null,"3"])")),
            (decode_error{"$.holes[2]", "expected integer, got string"}));
}

TEST(CodecErrors, WrongContainerKinds) {
  EXPECT_EQ(error_of<order>("[]"), (decode_error{"$", "expected object, got array"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("items":[)", R"("items":{},"x":[)")),
            (decode_error{"$.items", "expected array, got object"}));
  EXPECT_EQ(
      error_of<order>(with(order_json, R"("prices":{"eur":9.99,"usd":10.5})", R"("prices":[])")),
      (decode_error{"$.prices", "expected object, got array"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("ship_to":{"street":"1 Main St","zip":"10115"})",
                                 R"("ship_to":null)")),
            (decode_error{"$.ship_to", "expected object, got null"}));
}

TEST(CodecErrors, ScalarKinds) {
  EXPECT_EQ(error_of<bool>("1"), (decode_error{"$", "expected bool, got int64"}));
  EXPECT_EQ(error_of<double>(R"("1")"), (decode_error{"$", "expected number, got string"}));
  EXPECT_EQ(error_of<std::string>("1.5"), (decode_error{"$", "expected string, got double"}));
  EXPECT_EQ(error_of<brook::bytes>("[1]"), (decode_error{"$", "expected string, got array"}));
  EXPECT_EQ(error_of<int>("2.0"), (decode_error{"$", "expected integer, got double"}));
  EXPECT_EQ(error_of<int>("null"), (decode_error{"$", "expected integer, got null"}));
  EXPECT_EQ(error_of<std::vector<int>>("{}"), (decode_error{"$", "expected array, got object"}));
}

TEST(CodecErrors, IntegerRangeChecks) {
  const decode_error out_of_range{"$", "integer out of range"};
  EXPECT_EQ(error_of<std::int8_t>("128"), out_of_range);
  EXPECT_EQ(error_of<std::int8_t>("-129"), out_of_range);
  EXPECT_EQ(error_of<std::uint8_t>("-1"), out_of_range);
  EXPECT_EQ(error_of<std::uint16_t>("65536"), out_of_range);
  EXPECT_EQ(error_of<std::int32_t>("2147483648"), out_of_range);
  EXPECT_EQ(error_of<std::uint32_t>("-1"), out_of_range);
  EXPECT_EQ(error_of<std::uint64_t>("-1"), out_of_range);
  EXPECT_EQ(error_of<std::int64_t>("9223372036854775808"), out_of_range);
  EXPECT_EQ(error_of<order>(with(order_json, R"("qty":2)", R"("qty":99999999999)")),
            (decode_error{"$.items[0].qty", "integer out of range"}));
  // Beyond uint64 the parser yields a double.
  EXPECT_EQ(error_of<std::uint64_t>("18446744073709551616"),
            (decode_error{"$", "expected integer, got double"}));
}

TEST(CodecErrors, FloatRangeCheck) {
  EXPECT_EQ(error_of<float>("1e39"), (decode_error{"$", "number out of range"}));
  EXPECT_EQ(decoded<double>("1e39"), 1e39);
}

TEST(CodecErrors, FirstErrorInDeclarationOrderWins) {
  EXPECT_EQ(error_of<line_item>(R"({"price":"x","qty":"y"})"),
            (decode_error{"$.sku", "missing required field"}));
}

TEST(CodecErrors, DeepRecursivePath) {
  EXPECT_EQ(error_of<node>(
                R"({"name":"a","children":[{"name":"b","children":[{"name":"c","children":[]},)"
                R"({"name":null,"children":[]}]}]})"),
            (decode_error{"$.children[0].children[1].name", "expected string, got null"}));
}

TEST(CodecErrors, StrictModeRejectsUnknownFields) {
  const codec_options strict{.strict = true};
  EXPECT_EQ(decoded<order>(order_json, strict), sample_order());
  EXPECT_EQ(decoded<order>(with(order_json, R"("note":"leave at door",)", ""), strict).note,
            std::nullopt);
  EXPECT_EQ(error_of<order>(with(order_json, R"("ts":)", R"("extra":1,"ts":)"), strict),
            (decode_error{"$.extra", "unknown field"}));
  EXPECT_EQ(
      error_of<order>(with(order_json, R"("zip":"10115")", R"("zip":"10115","floor":3)"), strict),
      (decode_error{"$.ship_to.floor", "unknown field"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("ts":)", R"("x-trace":"t","ts":)"), strict),
            (decode_error{R"($["x-trace"])", "unknown field"}));
  EXPECT_EQ(error_of<order>(with(order_json, R"("qty":1,)", R"("qty":1,"qty2":1,)"), strict),
            (decode_error{"$.items[1].qty2", "unknown field"}));
}

TEST(CodecErrors, StrictModeKeepsMapKeysAndInheritedMembers) {
  const codec_options strict{.strict = true};
  EXPECT_EQ(decoded<order>(with(order_json, R"("usd":10.5)", R"("usd":10.5,"anything":1)"), strict)
                .prices.size(),
            3u);
  EXPECT_EQ(decoded<user_created>(R"({"event_id":"e","ts":1,"user":"u"})", strict).user, "u");
}

TEST(CodecErrors, SyntaxErrorsAreReportedAtTheRoot) {
  EXPECT_EQ(error_of<order>(order_json.substr(0, 50)),
            (decode_error{"$", "invalid JSON: incomplete JSON at offset 50"}));
  EXPECT_EQ(error_of<order>("{} x"), (decode_error{"$", "invalid JSON: extra data at offset 3"}));
  EXPECT_EQ(error_of<order>(""), (decode_error{"$", "invalid JSON: incomplete JSON at offset 0"}));
  EXPECT_EQ(error_of<order>(R"({"id":tru})").path, "$");
  EXPECT_THAT(error_of<order>(R"({"id":tru})").message, ::testing::StartsWith("invalid JSON: "));
}

TEST(CodecErrors, OversizeBodiesAreRejectedBeforeParsing) {
  const codec_options small{.max_body_bytes = 10};
  EXPECT_EQ(error_of<std::vector<int>>("[1,2,3,4,5]", small),
            (decode_error{"$",
                          "body of 11 bytes exceeds the limit of 10 bytes (raise it with "
                          "subscriber.max_body_bytes(n))"}));
  // The limit is checked before syntax.
  EXPECT_EQ(error_of<std::vector<int>>("[1,2,3,4,5,", small),
            (decode_error{"$",
                          "body of 11 bytes exceeds the limit of 10 bytes (raise it with "
                          "subscriber.max_body_bytes(n))"}));
  EXPECT_EQ(decoded<std::vector<int>>("[1,2,3,44]", small), (std::vector<int>{1, 2, 3, 44}));
}

TEST(CodecEncode, ToStringIsCompactInDeclarationOrder) {
  auto o = sample_order();
  o.note.reset();
  EXPECT_EQ(
      codec::to_string(o),
      R"({"id":"ord-1","state":"paid","ship_to":{"street":"1 Main St","zip":"10115"},)"
      R"("items":[{"sku":"SKU-1","qty":2,"price":9.99},{"sku":"SKU-2","qty":1,"price":120.5}],)"
      R"("prices":{"eur":9.99,"usd":10.5},"ts":1700000000123})");
}

TEST(CodecEncode, EmptyOptionalsAreOmittedFromStructsButNullInArraysAndMaps) {
  containers c;
  c.holes = {1, std::nullopt};
  c.sparse = {{"a", std::nullopt}};
  EXPECT_EQ(codec::to_string(c),
            R"({"ints":[],"grid":[],"bits":[],"holes":[1,null],"sparse":{"a":null},"by_sku":{}})");
  EXPECT_EQ(codec::to_json(c), boost::json::parse(codec::to_string(c)));
  EXPECT_EQ(codec::to_string(std::optional<int>{}), "null");
}

TEST(CodecEncode, DoublesUseTheShortestRoundTripForm) {
  EXPECT_EQ(codec::to_string(9.99), "9.99");
  EXPECT_EQ(codec::to_string(120.5), "120.5");
  EXPECT_EQ(codec::to_string(2.0), "2.0");
  EXPECT_EQ(codec::to_string(-0.0), "-0.0");
  EXPECT_EQ(codec::to_string(1e300), "1e+300");
  EXPECT_EQ(codec::to_string(1e-7), "1e-07");
  EXPECT_EQ(codec::to_string(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(codec::to_string(0.1f), "0.1");
  EXPECT_EQ(codec::to_string(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(codec::to_string(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(codec::to_string(boost::json::value(9.99)), "9.99");
  // Boost 1.81's parser may be 1 ULP off beyond 15 significant digits, so
  // the read-back check stays within them.
  for (double d : {9.99, 1e-300, 123456.789, 5e-324, 0.000123456789012345})
    EXPECT_EQ(decoded<double>(codec::to_string(d)), d);
  EXPECT_TRUE(decoded<boost::json::value>(codec::to_string(2.0)).is_double());
}

TEST(CodecEncode, IntegersAtTheirLimits) {
  EXPECT_EQ(codec::to_string(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(codec::to_string(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(codec::to_string(std::int8_t{-5}), "-5");
  EXPECT_EQ(codec::to_string(std::uint8_t{200}), "200");
}

TEST(CodecEncode, StringsAreEscaped) {
  const std::string text = "q\"b\\s/\b\f\n\r\t\x01\x1f h\xc3\xa9";
  EXPECT_EQ(codec::to_string(text), R"("q\"b\\s/\b\f\n\r\t\u0001\u001f h)"
                                    "\xc3\xa9\"");
  EXPECT_EQ(decoded<std::string>(codec::to_string(text)), text);
  EXPECT_EQ(codec::to_string(int_map{{"a\"b", 1}}), R"({"a\"b":1})");
}

TEST(CodecEncode, EnumsAsNamesAndUnnamedValuesAsNumbers) {
  EXPECT_EQ(codec::to_string(status::shipped), R"("shipped")");
  EXPECT_EQ(codec::to_string(static_cast<status>(7)), "7");
  EXPECT_EQ(codec::to_json(status::paid), boost::json::value("paid"));
  EXPECT_EQ(codec::to_json(static_cast<status>(7)), boost::json::value(7));
  EXPECT_EQ(error_of<status>(codec::to_string(static_cast<status>(7))).message,
            "expected string, got int64");
}

TEST(CodecEncode, BytesAndJsonValues) {
  scalars s;
  s.raw = {std::byte{'h'}, std::byte{'i'}};
  s.any = boost::json::parse(R"({"b":[true,null,1.5,"x",-1,18446744073709551615]})");
  EXPECT_EQ(
      codec::to_string(s),
      R"({"flag":false,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,)"
      R"("f32":0.0,"f64":0.0,"text":"","raw":"hi","any":{"b":[true,null,1.5,"x",-1,18446744073709551615]}})");
}

TEST(CodecEncode, ToJsonMatchesToString) {
  auto o = sample_order();
  EXPECT_EQ(codec::to_json(o), boost::json::parse(codec::to_string(o)));
  EXPECT_FALSE(codec::to_json(o).at("ship_to").as_object().contains("country"));
  scalars s;
  s.f32 = 0.5f;
  s.f64 = std::numeric_limits<double>::infinity();
  s.text = "t";
  auto v = codec::to_json(s);
  EXPECT_EQ(v, boost::json::parse(codec::to_string(s)));
  EXPECT_TRUE(v.at("f64").is_null());
  containers c;
  c.bits = {true, false};
  c.tags = std::vector<std::string>{"a"};
  c.by_sku["k"] = {"k", 1, 2.5};
  EXPECT_EQ(codec::to_json(c), boost::json::parse(codec::to_string(c)));
}

TEST(CodecEncode, EmptyStructAndInheritance) {
  EXPECT_EQ(codec::to_string(empty_message{}), "{}");
  user_created u;
  u.event_id = "e";
  u.ts = 2;
  u.user = "ann";
  EXPECT_EQ(codec::to_string(u), R"({"event_id":"e","ts":2,"user":"ann"})");
}

TEST(CodecEncode, RoundTrips) {
  EXPECT_EQ(decoded<order>(codec::to_string(sample_order())), sample_order());
  order via_value;
  EXPECT_FALSE(codec::from_json(codec::to_json(sample_order()), via_value));
  EXPECT_EQ(via_value, sample_order());

  scalars s{true,
            -1,
            2,
            -3,
            4,
            -5,
            6,
            -7,
            8,
            0.25f,
            1e-9,
            "txt",
            {std::byte{0x41}},
            boost::json::parse("[1,{}]")};
  EXPECT_EQ(decoded<scalars>(codec::to_string(s)), s);

  containers c{{1},
               {{2}, {}},
               {false, true},
               {std::nullopt, 4},
               {{"x", std::nullopt}, {"y", 5}},
               std::vector<std::string>{"t"},
               {{"k", {"k", 1, 0.5}}}};
  EXPECT_EQ(decoded<containers>(codec::to_string(c)), c);

  node n{"root", {node{"a", {}}, node{"b", {node{"c", {}}}}}};
  EXPECT_EQ(decoded<node>(codec::to_string(n)), n);

  page<line_item> p{{{"s", 1, 2}}, "cursor"};
  auto back = decoded<page<line_item>>(codec::to_string(p));
  EXPECT_EQ(back.items, p.items);
  EXPECT_EQ(back.next, p.next);
}

TEST(CodecEncode, SameNamedUserFunctionsAreNotUsed) {
  EXPECT_EQ(codec::encode_body(lookalike::point{3}).data, R"({"x":3})");
  lookalike::point p;
  EXPECT_FALSE(codec::decode_body(R"({"x":4})", "application/json", p));
  EXPECT_EQ(p.x, 4);
}

TEST(CodecBody, EncodeFollowsFastStreamRules) {
  auto text = codec::encode_body(std::string{"hello"});
  EXPECT_EQ(text.data, "hello");
  EXPECT_EQ(text.content_type, "text/plain");
  const std::string lvalue = "hi";
  EXPECT_EQ(codec::encode_body(lvalue).data, "hi");
  EXPECT_EQ(codec::encode_body(lvalue).content_type, "text/plain");

  auto raw = codec::encode_body(brook::bytes{std::byte{0}, std::byte{0xff}});
  EXPECT_EQ(raw.data, std::string("\0\xff", 2));
  EXPECT_EQ(raw.content_type, "");

  auto json = codec::encode_body(sample_order());
  EXPECT_EQ(json.data, codec::to_string(sample_order()));
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(codec::encode_body(42).data, "42");
  EXPECT_EQ(codec::encode_body(boost::json::value("s")).data, R"("s")");
  EXPECT_EQ(codec::encode_body(boost::json::value("s")).content_type, "application/json");
}

TEST(CodecBody, BytesAreAlwaysRaw) {
  for (std::string_view ct : {"", "application/json", "text/plain", "application/octet-stream"}) {
    brook::bytes out{std::byte{9}};
    EXPECT_FALSE(codec::decode_body(R"("x")", ct, out));
    EXPECT_EQ(out, (brook::bytes{std::byte{'"'}, std::byte{'x'}, std::byte{'"'}})) << ct;
  }
  brook::bytes empty{std::byte{1}};
  EXPECT_FALSE(codec::decode_body("", "", empty));
  EXPECT_TRUE(empty.empty());
}

TEST(CodecBody, StringsByContentType) {
  auto as_string = [](std::string_view data, std::string_view ct) {
    std::string out = "stale";
    EXPECT_FALSE(codec::decode_body(data, ct, out));
    return out;
  };
  EXPECT_EQ(as_string("hello", "text/plain"), "hello");
  EXPECT_EQ(as_string(R"("quoted")", "text/plain"), R"("quoted")");
  EXPECT_EQ(as_string(R"("quoted")", ""), R"("quoted")");
  EXPECT_EQ(as_string(R"("quoted")", "application/octet-stream"), R"("quoted")");
  EXPECT_EQ(as_string(R"("a\nb")", "application/json"), "a\nb");
  EXPECT_EQ(as_string(R"( "spaced" )", "application/json; charset=utf-8"), "spaced");
  EXPECT_EQ(as_string(R"("x")", "Application/JSON"), "x");
  EXPECT_EQ(as_string(R"("x")", "application/vnd.acme+json"), "x");
  EXPECT_EQ(as_string(R"({"a":1})", "application/json"), R"({"a":1})");
  EXPECT_EQ(as_string(R"("unterminated)", "application/json"), R"("unterminated)");
  EXPECT_EQ(as_string(R"("a" "b")", "application/json"), R"("a" "b")");
  EXPECT_EQ(as_string("", "application/json"), "");
  EXPECT_EQ(as_string("", ""), "");
}

TEST(CodecBody, JsonValuesAreParsedWhateverTheContentType) {
  for (std::string_view ct : {"", "application/json", "text/plain"}) {
    boost::json::value v;
    EXPECT_FALSE(codec::decode_body(R"({"a":[1,2]})", ct, v));
    EXPECT_EQ(v, boost::json::parse(R"({"a":[1,2]})")) << ct;
  }
  boost::json::value v;
  EXPECT_EQ(codec::decode_body("hello", "text/plain", v),
            (decode_error{"$", "invalid JSON: syntax error at offset 0"}));
}

TEST(CodecBody, TypedBodiesAreParsedWhateverTheContentType) {
  for (std::string_view ct : {"", "application/json", "text/plain", "application/octet-stream"}) {
    order o;
    EXPECT_FALSE(codec::decode_body(order_json, ct, o)) << ct;
    EXPECT_EQ(o, sample_order());
  }
  order o;
  EXPECT_EQ(
      codec::decode_body(with(order_json, R"("qty":1)", R"("qty":"1")"), "application/json", o),
      (decode_error{"$.items[1].qty", "expected integer, got string"}));
  EXPECT_EQ(codec::decode_body(with(order_json, R"("ts":)", R"("extra":1,"ts":)"),
                               "application/json", o, {.strict = true}),
            (decode_error{"$.extra", "unknown field"}));
  int n = 0;
  EXPECT_FALSE(codec::decode_body("17", "text/plain", n));
  EXPECT_EQ(n, 17);
}

TEST(CodecBody, OversizeBodiesAreRejectedForEveryType) {
  const codec_options small{.max_body_bytes = 4};
  const decode_error oversize{
      "$",
      "body of 5 bytes exceeds the limit of 4 bytes (raise it with subscriber.max_body_bytes(n))"};
  brook::bytes raw;
  std::string text;
  boost::json::value v;
  order o;
  EXPECT_EQ(codec::decode_body("12345", "", raw, small), oversize);
  EXPECT_EQ(codec::decode_body("12345", "text/plain", text, small), oversize);
  EXPECT_EQ(codec::decode_body("12345", "application/json", v, small), oversize);
  EXPECT_EQ(codec::decode_body("12345", "application/json", o, small), oversize);
  EXPECT_FALSE(codec::decode_body("1234", "", raw, small));
  EXPECT_EQ(raw.size(), 4u);
}

TEST(CodecSchema, NestedStructExact) {
  EXPECT_EQ(codec::to_string(codec::json_schema<order>()), compact(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "order",
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "state": {"$ref": "#/$defs/status"},
      "ship_to": {"$ref": "#/$defs/address"},
      "items": {"type": "array", "items": {"$ref": "#/$defs/line_item"}},
      "prices": {"type": "object", "additionalProperties": {"type": "number"}},
      "note": {"type": "string"},
      "ts": {"type": "integer"}
    },
    "required": ["id", "state", "ship_to", "items", "prices", "ts"],
    "$defs": {
      "status": {"title": "status", "type": "string", "enum": ["pending", "paid", "shipped"]},
      "address": {
        "title": "address",
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"type": "string"}, "country": {"type": "string"}},
        "required": ["street", "zip"]
      },
      "line_item": {
        "title": "line_item",
        "type": "object",
        "properties": {
          "sku": {"type": "string"},
          "qty": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
          "price": {"type": "number"}
        },
        "required": ["sku", "qty", "price"]
      }
    }
  })"));
}

TEST(CodecSchema, IsDeterministic) {
  EXPECT_EQ(codec::to_string(codec::json_schema<order>()),
            codec::to_string(codec::json_schema<order>()));
  EXPECT_EQ(codec::to_string(codec::json_schema<containers>()),
            codec::to_string(codec::json_schema<containers>()));
}

TEST(CodecSchema, EveryLeafShape) {
  auto props = codec::json_schema<scalars>().at("properties");
  EXPECT_EQ(codec::to_string(props), compact(R"({
    "flag": {"type": "boolean"},
    "i8": {"type": "integer", "minimum": -128, "maximum": 127},
    "u8": {"type": "integer", "minimum": 0, "maximum": 255},
    "i16": {"type": "integer", "minimum": -32768, "maximum": 32767},
    "u16": {"type": "integer", "minimum": 0, "maximum": 65535},
    "i32": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
    "u32": {"type": "integer", "minimum": 0, "maximum": 4294967295},
    "i64": {"type": "integer"},
    "u64": {"type": "integer", "minimum": 0},
    "f32": {"type": "number"},
    "f64": {"type": "number"},
    "text": {"type": "string"},
    "raw": {"type": "string", "format": "binary"},
    "any": {}
  })"));
}

TEST(CodecSchema, ContainersAndOptionals) {
  auto schema = codec::json_schema<containers>();
  EXPECT_EQ(codec::to_string(schema.at("properties")), compact(R"({
    "ints": {"type": "array", "items": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647}},
    "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647}}},
    "bits": {"type": "array", "items": {"type": "boolean"}},
    "holes": {"type": "array", "items": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647}},
    "sparse": {"type": "object", "additionalProperties": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "by_sku": {"type": "object", "additionalProperties": {"$ref": "#/$defs/line_item"}}
  })"));
  EXPECT_EQ(schema.at("required"),
            boost::json::parse(R"(["ints","grid","bits","holes","sparse","by_sku"])"));
}

TEST(CodecSchema, NonStructRoots) {
  EXPECT_EQ(
      codec::to_string(codec::json_schema<std::uint8_t>()),
      R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"integer","minimum":0,"maximum":255})");
  EXPECT_EQ(codec::to_string(codec::json_schema<std::string>()),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"string"})");
  EXPECT_EQ(codec::to_string(codec::json_schema<status>()),
            compact(R"({"$schema":"https://json-schema.org/draft/2020-12/schema",
                        "title":"status","type":"string","enum":["pending","paid","shipped"]})"));
  auto list = codec::json_schema<std::vector<billing::item>>();
  EXPECT_EQ(codec::to_string(list), compact(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {"$ref": "#/$defs/item"},
    "$defs": {"item": {"title": "item", "type": "object", "properties": {"amount": {"type": "number"}},
                       "required": ["amount"]}}
  })"));
}

TEST(CodecSchema, SelfReferencingRootStaysAReference) {
  EXPECT_EQ(codec::to_string(codec::json_schema<node>()), compact(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/node",
    "$defs": {
      "node": {
        "title": "node",
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "required": ["name", "children"]
      }
    }
  })"));
}

TEST(CodecSchema, InheritedMembersComeFirstAndEmptyRequiredIsOmitted) {
  auto schema = codec::json_schema<user_created>();
  std::vector<std::string> names;
  for (const auto& kv : schema.at("properties").as_object())
    names.emplace_back(kv.key());
  EXPECT_THAT(names, ElementsAre("event_id", "ts", "user"));
  EXPECT_EQ(
      codec::to_string(codec::json_schema<empty_message>()),
      R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"empty_message","type":"object","properties":{}})");
}

TEST(CodecSchema, RegistryCollectsDefinitionsUnderItsPrefix) {
  codec::schema_registry registry{"#/components/schemas/"};
  EXPECT_EQ(registry.schema_of<order>(),
            boost::json::parse(R"({"$ref":"#/components/schemas/order"})"));
  EXPECT_EQ(
      registry.schema_of<std::vector<line_item>>(),
      boost::json::parse(R"({"type":"array","items":{"$ref":"#/components/schemas/line_item"}})"));
  EXPECT_EQ(registry.schema_of<std::optional<order>>(),
            boost::json::parse(R"({"$ref":"#/components/schemas/order"})"));
  EXPECT_EQ(registry.schema_of<int>(),
            boost::json::parse(R"({"type":"integer","minimum":-2147483648,"maximum":2147483647})"));
  std::vector<std::string> keys;
  for (const auto& kv : registry.definitions())
    keys.emplace_back(kv.key());
  EXPECT_THAT(keys, ElementsAre("order", "status", "address", "line_item"));
  EXPECT_EQ(registry.definitions().at("order").at("properties").at("ship_to"),
            boost::json::parse(R"({"$ref":"#/components/schemas/address"})"));
  EXPECT_EQ(registry.ref_prefix(), "#/components/schemas/");
}

TEST(CodecSchema, SameShortNameGetsTheQualifiedName) {
  codec::schema_registry registry;
  EXPECT_EQ(registry.schema_of<invoice>(), boost::json::parse(R"({"$ref":"#/$defs/invoice"})"));
  auto& props = registry.definitions().at("invoice").at("properties");
  EXPECT_EQ(props.at("charge"), boost::json::parse(R"({"$ref":"#/$defs/item"})"));
  EXPECT_EQ(props.at("product"),
            boost::json::parse(R"({"$ref":"#/$defs/codec_test.catalog.item"})"));
  EXPECT_EQ(registry.definitions().at("codec_test.catalog.item").at("title"), "item");
  EXPECT_EQ(registry.schema_of<catalog::item>(),
            boost::json::parse(R"({"$ref":"#/$defs/codec_test.catalog.item"})"));
  EXPECT_EQ(registry.definitions().size(), 3u);
}

TEST(CodecSchema, ClassTemplatesUseTheirShortName) {
  codec::schema_registry registry;
  EXPECT_EQ(registry.schema_of<page<line_item>>(),
            boost::json::parse(R"({"$ref":"#/$defs/page<line_item>"})"));
  EXPECT_EQ(registry.definitions().at("page<line_item>").at("required"),
            boost::json::parse(R"(["items"])"));
}

}  // namespace codec_test
