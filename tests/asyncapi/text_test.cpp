#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <brook/asyncapi/generator.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace aa = brook::asyncapi;
namespace json = boost::json;

TEST(to_json_text, pretty_prints_with_two_spaces_in_insertion_order) {
  json::value v = json::parse(R"({"z": 1, "a": [true, null, {}], "m": {"k": []}, "s": "x"})");
  EXPECT_EQ(aa::to_json_text(v), R"({
  "z": 1,
  "a": [
    true,
    null,
    {}
  ],
  "m": {
    "k": []
  },
  "s": "x"
}
)");
}

TEST(to_json_text, escapes_and_numbers) {
  json::object o;
  o["text"] = "quote \" backslash \\ newline \n tab \t bell \x07 tr\xc3\xa4ger";
  o["int"] = -42;
  o["uint"] = 18446744073709551615ULL;
  o["half"] = 1.5;
  o["whole"] = 2.0;
  o["big"] = 1e300;
  EXPECT_EQ(
      aa::to_json_text(o),
      "{\n"
      "  \"text\": \"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 tr\xc3\xa4ger\",\n"
      "  \"int\": -42,\n"
      "  \"uint\": 18446744073709551615,\n"
      "  \"half\": 1.5,\n"
      "  \"whole\": 2.0,\n"
      "  \"big\": 1e+300\n"
      "}\n");
  EXPECT_EQ(json::parse(aa::to_json_text(o)), json::value(o));
}

TEST(to_json_text, scalars_at_the_root) {
  EXPECT_EQ(aa::to_json_text(json::value("x")), "\"x\"\n");
  EXPECT_EQ(aa::to_json_text(json::value(nullptr)), "null\n");
  EXPECT_EQ(aa::to_json_text(json::object{}), "{}\n");
}

TEST(to_yaml, block_style_with_compact_sequences) {
  json::value v = json::parse(R"({
    "info": {"title": "greeter", "version": "1.0.0"},
    "tags": [{"name": "users", "description": "people"}, {"name": "orders"}],
    "matrix": [[1, 2], []],
    "empty": {},
    "list": ["a", 2.5, false, null]
  })");
  EXPECT_EQ(aa::to_yaml(v), R"(info:
  title: greeter
  version: "1.0.0"
tags:
  - name: users
    description: people
  - name: orders
matrix:
  - - 1
    - 2
  - []
empty: {}
list:
  - a
  - 2.5
  - false
  - null
)");
}

TEST(to_yaml, quotes_strings_a_parser_would_misread) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "plain"},
      {"two words", "two words"},
      {"HandleUser:Message:Payload", "HandleUser:Message:Payload"},
      {"$message.header#/correlation_id", "$message.header#/correlation_id"},
      {"https://example.com/a?b=c", "https://example.com/a?b=c"},
      {"it's \"fine\"", "it's \"fine\""},
      {"", "\"\""},
      {"yes", "\"yes\""},
      {"No", "\"No\""},
      {"ON", "\"ON\""},
      {"y", "\"y\""},
      {"null", "\"null\""},
      {"~", "\"~\""},
      {"true", "\"true\""},
      {"1.0", "\"1.0\""},
      {"0x1F", "\"0x1F\""},
      {"2024-01-01", "\"2024-01-01\""},
      {".inf", "\".inf\""},
      {"-1", "\"-1\""},
      {"#/components/schemas/User", "\"#/components/schemas/User\""},
      {"a: b", "\"a: b\""},
      {"a #b", "\"a #b\""},
      {"key:", "\"key:\""},
      {"- item", "\"- item\""},
      {"*alias", "\"*alias\""},
      {"!tag", "\"!tag\""},
      {"orders.{region}", "\"orders.{region}\""},
      {"a,b", "\"a,b\""},
      {" lead", "\" lead\""},
      {"trail ", "\"trail \""},
      {"line\nbreak", "\"line\\nbreak\""},
      {"tab\there", "\"tab\\there\""},
      {"back\\slash \"q\"\n", "\"back\\\\slash \\\"q\\\"\\n\""},
      {"del\x7f", "\"del\\u007F\""},
      {"tr\xc3\xa4ger", "\"tr\xc3\xa4ger\""},
      {"nel\xc2\x85", "\"nel\\u0085\""},
      {"ls\xe2\x80\xa8", "\"ls\\u2028\""},
      {"\xef\xbb\xbf"
       "bom",
       "\"\\uFEFFbom\""},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(aa::to_yaml(json::value(input)), expected + "\n") << "input: " << input;
    json::object keyed;
    keyed[input] = 1;
    EXPECT_EQ(aa::to_yaml(keyed), expected + ": 1\n") << "key: " << input;
  }
}

TEST(to_yaml, long_keys_use_the_explicit_form) {
  json::object o;
  std::string key(1200, 'k');
  o[key] = json::object{{"a", 1}};
  EXPECT_EQ(aa::to_yaml(o), "? " + key + "\n:\n  a: 1\n");
}

TEST(to_yaml, numbers_match_json) {
  json::value v = json::parse(R"([1, -2, 1.5, 2.0, 1e300])");
  EXPECT_EQ(aa::to_yaml(v), "- 1\n- -2\n- 1.5\n- 2.0\n- 1e+300\n");
}

// Without a YAML reader in C++, check the shape a reader relies on: consistent two-space
// indentation, every line a "key:" or "- " entry, no trailing blanks, top-level keys in order.
// validate.mjs reads the same documents back with js-yaml and compares them with the JSON.
TEST(to_yaml, generated_document_is_well_formed) {
  aa::service_spec s;
  s.info.description = "multi\nline: text # here";
  s.servers.push_back({.name = "dev", .url = "redis://localhost:6379", .protocol = "redis"});
  s.operations.push_back(
      {.kind = aa::operation_kind::subscribe,
       .address = "orders.{region}",
       .handler_name = "HandleOrder",
       .payload = {{"type", "string"}},
       .bindings = {{"redis", {{"channel", "orders.{region}"}, {"method", "psubscribe"}}}}});
  for (aa::spec_version v : {aa::spec_version::v3_0_0, aa::spec_version::v2_6_0}) {
    json::value doc = aa::generate(s, v);
    std::string yaml = aa::to_yaml(doc);
    std::istringstream lines(yaml);
    std::vector<std::string> top_level;
    for (std::string line; std::getline(lines, line);) {
      std::size_t indent = line.find_first_not_of(' ');
      ASSERT_NE(indent, std::string::npos) << "blank line";
      EXPECT_EQ(indent % 2, 0U) << line;
      EXPECT_NE(line.back(), ' ') << line;
      std::string_view body = std::string_view(line).substr(indent);
      bool entry = body.rfind("- ", 0) == 0;
      bool mapping = body.find(':') != std::string_view::npos;
      EXPECT_TRUE(entry || mapping) << line;
      if (indent == 0) {
        top_level.push_back(line.substr(0, line.find(':')));
      }
    }
    std::vector<std::string> keys;
    for (const auto& member : doc.as_object()) {
      keys.emplace_back(member.key());
    }
    EXPECT_EQ(top_level, keys);
    EXPECT_NE(yaml.find("description: \"multi\\nline: text # here\""), std::string::npos);
    EXPECT_NE(yaml.find("asyncapi: \"" + std::string(aa::version_string(v)) + "\""),
              std::string::npos);
  }
}

}  // namespace
