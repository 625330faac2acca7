#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <brook/asyncapi/generator.hpp>
#include <stdexcept>
#include <string>

namespace {

namespace aa = brook::asyncapi;
namespace json = boost::json;

json::object redis_binding(std::string_view channel, std::string_view method) {
  return {{"redis", {{"channel", channel}, {"method", method}}}};
}

// FastStream's `greeter` example: one subscriber with a named body type, one publisher.
aa::service_spec greeter() {
  aa::service_spec s;
  s.info.title = "greeter";
  s.info.version = "1.0.0";
  s.info.description = "says hi";
  s.info.contact_name = "ops";
  s.info.contact_url = "https://example.com";
  s.info.contact_email = "ops@example.com";
  s.info.license_name = "MIT";
  s.info.license_url = "https://opensource.org/licenses/MIT";
  s.info.tags = {"users"};
  s.servers.push_back({.name = "development",
                       .url = "redis://user:pw@localhost:6379/0?password=pw",
                       .protocol = "redis",
                       .protocol_version = "custom",
                       .description = {},
                       .security_schemes = {{"user-password", {{"type", "userPassword"}}}}});
  s.schemas = {{"User", {{"title", "User"}, {"type", "object"}}}};
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "user-created",
                          .handler_name = "HandleUser",
                          .payload = {{"$ref", "#/components/schemas/User"}},
                          .payload_name = "User",
                          .bindings = redis_binding("user-created", "subscribe")});
  s.operations.push_back({.kind = aa::operation_kind::publish,
                          .address = "greetings",
                          .payload = {{"type", "string"}}});
  return s;
}

// Compares documents as text, so key order counts as much as content.
void expect_document(const json::value& actual, std::string_view expected) {
  EXPECT_EQ(aa::to_json_text(actual), aa::to_json_text(json::parse(expected)));
}

const json::object& at(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (std::string_view key : path) {
    cur = &cur->as_object().at(key);
  }
  return cur->as_object();
}

TEST(generate, v3_0_0_document_matches_faststream_layout) {
  expect_document(aa::generate(greeter()), R"({
    "asyncapi": "3.0.0",
    "info": {
      "title": "greeter", "version": "1.0.0", "description": "says hi",
      "contact": {"name": "ops", "url": "https://example.com", "email": "ops@example.com"},
      "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
      "tags": [{"name": "users"}]
    },
    "defaultContentType": "application/json",
    "servers": {
      "development": {
        "host": "localhost:6379", "pathname": "/0", "protocol": "redis", "protocolVersion": "custom",
        "security": [{"$ref": "#/components/securitySchemes/user-password"}]
      }
    },
    "channels": {
      "user-created:HandleUser": {
        "address": "user-created",
        "servers": [{"$ref": "#/servers/development"}],
        "messages": {
          "SubscribeMessage": {"$ref": "#/components/messages/user-created:HandleUser:SubscribeMessage"}
        },
        "bindings": {"redis": {"channel": "user-created", "method": "subscribe"}}
      },
      "greetings:Publisher": {
        "address": "greetings",
        "servers": [{"$ref": "#/servers/development"}],
        "messages": {"Message": {"$ref": "#/components/messages/greetings:Publisher:Message"}}
      }
    },
    "operations": {
      "user-created:HandleUserSubscribe": {
        "action": "receive",
        "channel": {"$ref": "#/channels/user-created:HandleUser"},
        "messages": [{"$ref": "#/channels/user-created:HandleUser/messages/SubscribeMessage"}]
      },
      "greetings:Publisher": {
        "action": "send",
        "channel": {"$ref": "#/channels/greetings:Publisher"},
        "messages": [{"$ref": "#/channels/greetings:Publisher/messages/Message"}]
      }
    },
    "components": {
      "messages": {
        "user-created:HandleUser:SubscribeMessage": {
          "title": "user-created:HandleUser:SubscribeMessage",
          "correlationId": {"location": "$message.header#/correlation_id"},
          "payload": {"$ref": "#/components/schemas/User"}
        },
        "greetings:Publisher:Message": {
          "title": "greetings:Publisher:Message",
          "correlationId": {"location": "$message.header#/correlation_id"},
          "payload": {"$ref": "#/components/schemas/greetings:Publisher:Message:Payload"}
        }
      },
      "schemas": {
        "User": {"title": "User", "type": "object"},
        "greetings:Publisher:Message:Payload": {"title": "greetings:Publisher:Message:Payload", "type": "string"}
      },
      "securitySchemes": {"user-password": {"type": "userPassword"}}
    }
  })");
}

TEST(generate, v2_6_0_document_nests_operations_in_channels) {
  expect_document(aa::generate(greeter(), aa::spec_version::v2_6_0), R"({
    "asyncapi": "2.6.0",
    "info": {
      "title": "greeter", "version": "1.0.0", "description": "says hi",
      "contact": {"name": "ops", "url": "https://example.com", "email": "ops@example.com"},
      "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}
    },
    "tags": [{"name": "users"}],
    "defaultContentType": "application/json",
    "servers": {
      "development": {
        "url": "redis://localhost:6379/0", "protocol": "redis", "protocolVersion": "custom",
        "security": [{"user-password": []}]
      }
    },
    "channels": {
      "user-created:HandleUser": {
        "servers": ["development"],
        "bindings": {"redis": {"channel": "user-created", "method": "subscribe"}},
        "publish": {
          "operationId": "user-created:HandleUserSubscribe",
          "message": {"$ref": "#/components/messages/user-created:HandleUser:Message"}
        }
      },
      "greetings:Publisher": {
        "servers": ["development"],
        "subscribe": {
          "operationId": "greetings:Publisher",
          "message": {"$ref": "#/components/messages/greetings:Publisher:Message"}
        }
      }
    },
    "components": {
      "messages": {
        "user-created:HandleUser:Message": {
          "title": "user-created:HandleUser:Message",
          "messageId": "user-created:HandleUser:Message",
          "correlationId": {"location": "$message.header#/correlation_id"},
          "payload": {"$ref": "#/components/schemas/User"}
        },
        "greetings:Publisher:Message": {
          "title": "greetings:Publisher:Message",
          "messageId": "greetings:Publisher:Message",
          "correlationId": {"location": "$message.header#/correlation_id"},
          "payload": {"$ref": "#/components/schemas/greetings:Publisher:Message:Payload"}
        }
      },
      "schemas": {
        "User": {"title": "User", "type": "object"},
        "greetings:Publisher:Message:Payload": {"title": "greetings:Publisher:Message:Payload", "type": "string"}
      },
      "securitySchemes": {"user-password": {"type": "userPassword"}}
    }
  })");
}

TEST(generate, is_deterministic) {
  for (aa::spec_version v : {aa::spec_version::v3_0_0, aa::spec_version::v2_6_0}) {
    std::string first = aa::to_json_text(aa::generate(greeter(), v));
    EXPECT_EQ(first, aa::to_json_text(aa::generate(greeter(), v)));
    EXPECT_EQ(aa::to_yaml(aa::generate(greeter(), v)), aa::to_yaml(aa::generate(greeter(), v)));
  }
}

TEST(generate, minimal_spec_has_no_empty_sections) {
  aa::service_spec s;
  expect_document(aa::generate(s), R"({
    "asyncapi": "3.0.0",
    "info": {"title": "brook service", "version": "0.1.0"},
    "defaultContentType": "application/json",
    "channels": {},
    "operations": {}
  })");
  expect_document(aa::generate(s, aa::spec_version::v2_6_0), R"({
    "asyncapi": "2.6.0",
    "info": {"title": "brook service", "version": "0.1.0"},
    "defaultContentType": "application/json",
    "channels": {}
  })");
}

TEST(generate, identifier_becomes_root_id) {
  aa::service_spec s;
  s.info.identifier = "urn:example:greeter";
  EXPECT_EQ(aa::generate(s).as_object().at("id"), "urn:example:greeter");
  EXPECT_EQ(aa::generate(s, aa::spec_version::v2_6_0).as_object().at("id"), "urn:example:greeter");
}

TEST(generate, title_replaces_channel_and_operation_names) {
  aa::service_spec s;
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "jobs",
                          .handler_name = "HandleJob",
                          .title = "jobs-worker",
                          .description = "the queue",
                          .payload = {{"type", "integer"}}});
  json::value v3 = aa::generate(s);
  expect_document(at(v3, {"channels"}), R"({
    "jobs-worker": {
      "address": "jobs",
      "description": "the queue",
      "messages": {"SubscribeMessage": {"$ref": "#/components/messages/jobs-worker:SubscribeMessage"}}
    }
  })");
  EXPECT_TRUE(at(v3, {"operations"}).contains("jobs-worker"));
  EXPECT_EQ(at(v3, {"components", "schemas"}).at("jobs-worker:Message:Payload"),
            json::parse(R"({"title": "jobs-worker:Message:Payload", "type": "integer"})"));

  json::value v2 = aa::generate(s, aa::spec_version::v2_6_0);
  EXPECT_EQ(at(v2, {"channels", "jobs-worker", "publish"}).at("operationId"), "jobs-worker");
  EXPECT_EQ(at(v2, {"channels", "jobs-worker"}).at("description"), "the queue");
}

TEST(generate, subscriber_payload_is_named_after_the_handler) {
  aa::service_spec s;
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "in",
                          .handler_name = "HandleMsg",
                          .payload = json::parse(R"({"type": "object", "properties": {}})")});
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "in2",
                          .handler_name = "HandleOther",
                          .payload = json::parse(R"({"type": "object"})"),
                          .payload_name = "Order"});
  s.operations.push_back({.kind = aa::operation_kind::publish, .address = "out"});
  json::value doc = aa::generate(s);
  const json::object& schemas = at(doc, {"components", "schemas"});
  EXPECT_EQ(
      schemas.at("HandleMsg:Message:Payload"),
      json::parse(R"({"title": "HandleMsg:Message:Payload", "type": "object", "properties": {}})"));
  EXPECT_EQ(at(doc, {"components", "messages", "in2:HandleOther:SubscribeMessage"}).at("payload"),
            json::parse(R"({"$ref": "#/components/schemas/Order"})"));
  EXPECT_TRUE(schemas.contains("Order"));
  // A publisher without a body still gets a (permissive) schema to point at.
  EXPECT_EQ(schemas.at("out:Publisher:Message:Payload"),
            json::parse(R"({"title": "out:Publisher:Message:Payload"})"));
}

TEST(generate, declared_schemas_win_over_generated_ones) {
  aa::service_spec s;
  s.schemas = {{"Order", {{"title", "Order"}, {"type", "object"}, {"required", {"id"}}}}};
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "in",
                          .handler_name = "H",
                          .payload = {{"type", "string"}},
                          .payload_name = "Order"});
  EXPECT_EQ(at(aa::generate(s), {"components", "schemas"}).at("Order"), s.schemas.at("Order"));
}

TEST(generate, excluded_operations_are_left_out) {
  aa::service_spec s;
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "hidden",
                          .handler_name = "H",
                          .include_in_schema = false});
  json::value doc = aa::generate(s);
  EXPECT_TRUE(at(doc, {"channels"}).empty());
  EXPECT_TRUE(at(doc, {"operations"}).empty());
  EXPECT_FALSE(doc.as_object().contains("components"));
}

TEST(generate, slashes_and_braces_in_names) {
  aa::service_spec s;
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "a/{tenant}/b",
                          .handler_name = "H",
                          .parameters = {"tenant", "not_in_address"}});
  json::value v3 = aa::generate(s);
  // 3.0: '/' becomes '.' in names (FastStream), the address stays, refs are percent-encoded.
  const json::object& channel = at(v3, {"channels", "a.{tenant}.b:H"});
  EXPECT_EQ(channel.at("address"), "a/{tenant}/b");
  EXPECT_EQ(channel.at("parameters"), json::parse(R"({"tenant": {}})"));
  EXPECT_EQ(at(v3, {"operations", "a.{tenant}.b:HSubscribe"}).at("channel"),
            json::parse(R"({"$ref": "#/channels/a.%7Btenant%7D.b:H"})"));
  EXPECT_EQ(at(v3, {"components", "messages", "a.{tenant}.b:H:SubscribeMessage"}).at("title"),
            "a/{tenant}/b:H:SubscribeMessage");

  // 2.6: channel names are paths and keep '/'; parameters follow the name's placeholders.
  json::value v2 = aa::generate(s, aa::spec_version::v2_6_0);
  EXPECT_EQ(at(v2, {"channels", "a/{tenant}/b:H"}).at("parameters"),
            json::parse(R"({"tenant": {"schema": {"type": "string"}}})"));
  EXPECT_EQ(at(v2, {"channels", "a/{tenant}/b:H", "publish"}).at("message"),
            json::parse(R"({"$ref": "#/components/messages/a.%7Btenant%7D.b:H:Message"})"));
}

TEST(generate, v2_channel_names_are_uri_templates) {
  aa::service_spec s;
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "x.{a-b}",
                          .handler_name = "H",
                          .title = "my title {id} 100%"});
  json::value v2 = aa::generate(s, aa::spec_version::v2_6_0);
  const json::object& channel = at(v2, {"channels", "my_title_{id}_100_"});
  EXPECT_EQ(channel.at("parameters"), json::parse(R"({"id": {"schema": {"type": "string"}}})"));
  // The readable name survives in the message title.
  EXPECT_EQ(at(v2, {"components", "messages", "my title {id} 100%:Message"}).at("title"),
            "my title {id} 100%:Message");
}

TEST(generate, servers_drop_credentials_and_can_be_chosen_per_operation) {
  aa::service_spec s;
  s.servers.push_back({.name = "a", .url = "nats://u:p@nats-1:4222", .protocol = "nats"});
  s.servers.push_back({.name = "b", .url = "kafka-1:9092", .protocol = "kafka"});
  s.operations.push_back({.kind = aa::operation_kind::publish, .address = "out", .servers = {"b"}});
  json::value v3 = aa::generate(s);
  EXPECT_EQ(at(v3, {"servers", "a"}),
            json::parse(R"({"host": "nats-1:4222", "protocol": "nats"})"));
  EXPECT_EQ(at(v3, {"servers", "b"}),
            json::parse(R"({"host": "kafka-1:9092", "protocol": "kafka"})"));
  EXPECT_EQ(at(v3, {"channels", "out:Publisher"}).at("servers"),
            json::parse(R"([{"$ref": "#/servers/b"}])"));
  json::value v2 = aa::generate(s, aa::spec_version::v2_6_0);
  EXPECT_EQ(at(v2, {"servers", "a"}).at("url"), "nats://nats-1:4222");
  EXPECT_EQ(at(v2, {"channels", "out:Publisher"}).at("servers"), json::parse(R"(["b"])"));
  EXPECT_EQ(aa::to_json_text(v3).find("u:p"), std::string::npos);
}

TEST(generate, protocol_defaults_to_the_url_scheme) {
  aa::service_spec s;
  s.servers.push_back({.name = "dev", .url = "amqp://localhost:5672/vhost"});
  EXPECT_EQ(at(aa::generate(s), {"servers", "dev"}),
            json::parse(R"({"host": "localhost:5672", "pathname": "/vhost", "protocol": "amqp"})"));
}

TEST(generate, unknown_server_name_is_an_error) {
  aa::service_spec s;
  s.operations.push_back(
      {.kind = aa::operation_kind::publish, .address = "out", .servers = {"nope"}});
  try {
    aa::generate(s);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("out:Publisher"), std::string::npos) << e.what();
  }
}

TEST(generate, headers_declare_the_correlation_id) {
  aa::service_spec s;
  s.operations.push_back(
      {.kind = aa::operation_kind::subscribe,
       .address = "in",
       .handler_name = "H",
       .headers = json::parse(R"({"properties": {"x-tenant": {"type": "string"}}})")});
  s.operations.push_back(
      {.kind = aa::operation_kind::subscribe, .address = "in2", .handler_name = "H"});
  json::value doc = aa::generate(s);
  expect_document(at(doc, {"components", "messages", "in:H:SubscribeMessage"}).at("headers"), R"({
    "properties": {
      "x-tenant": {"type": "string"},
      "correlation_id": {"type": "string", "description": "Correlates a reply with its request."}
    },
    "type": "object"
  })");
  EXPECT_FALSE(at(doc, {"components", "messages", "in2:H:SubscribeMessage"}).contains("headers"));
}

TEST(generate, operation_bindings_go_on_the_operation) {
  aa::service_spec s;
  json::object kafka_op = {{"kafka", {{"groupId", {{"type", "string"}, {"enum", {"g1"}}}}}}};
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "t",
                          .handler_name = "H",
                          .bindings = {{"kafka", {{"topic", "t"}}}},
                          .operation_bindings = kafka_op});
  json::value v3 = aa::generate(s);
  EXPECT_EQ(at(v3, {"operations", "t:HSubscribe"}).at("bindings"), kafka_op);
  EXPECT_EQ(at(v3, {"channels", "t:H"}).at("bindings"),
            json::parse(R"({"kafka": {"topic": "t"}})"));
  json::value v2 = aa::generate(s, aa::spec_version::v2_6_0);
  EXPECT_EQ(at(v2, {"channels", "t:H", "publish"}).at("bindings"), kafka_op);
}

TEST(generate, first_operation_wins_a_channel_name) {
  aa::service_spec s;
  s.operations.push_back(
      {.kind = aa::operation_kind::publish, .address = "out", .payload = {{"type", "string"}}});
  s.operations.push_back(
      {.kind = aa::operation_kind::publish, .address = "out", .payload = {{"type", "integer"}}});
  json::value doc = aa::generate(s);
  EXPECT_EQ(at(doc, {"channels"}).size(), 1U);
  EXPECT_EQ(at(doc, {"components", "schemas", "out:Publisher:Message:Payload"}).at("type"),
            "string");
}

TEST(version_string, names_both_versions) {
  EXPECT_EQ(aa::version_string(aa::spec_version::v3_0_0), "3.0.0");
  EXPECT_EQ(aa::version_string(aa::spec_version::v2_6_0), "2.6.0");
}

}  // namespace
