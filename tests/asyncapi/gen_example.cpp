// A realistic service description (an order service on Redis) for the checks that need real
// documents: validate.mjs runs the official AsyncAPI parser on what `--out` writes, and
// browser_test.sh renders what `--serve` serves in headless Chromium.
//
//   asyncapi_gen_example --out DIR                   writes asyncapi-{3.0.0,2.6.0}.{json,yaml}
//   asyncapi_gen_example --serve ASSETS PORT_FILE    serves the docs on a free port, writes the
//                                                    port to PORT_FILE, runs until SIGTERM/SIGINT
#include <pthread.h>

#include <boost/json/parse.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

namespace aa = brook::asyncapi;
namespace json = boost::json;

json::object redis_binding(std::string_view channel, std::string_view method) {
  return {{"redis", {{"channel", channel}, {"method", method}, {"bindingVersion", "custom"}}}};
}

aa::service_spec example_spec() {
  aa::service_spec s;
  s.info.identifier = "urn:brook:samples:orders";
  s.info.title = "Order service";
  s.info.version = "1.4.0";
  s.info.description =
      "Accepts orders, confirms them and tells customers.\n\n"
      "Markdown *works*: see [the docs](https://example.com/docs) # not a comment";
  s.info.contact_name = "Orders team";
  s.info.contact_url = "https://example.com/orders";
  s.info.contact_email = "orders@example.com";
  s.info.license_name = "Apache 2.0";
  s.info.license_url = "https://www.apache.org/licenses/LICENSE-2.0";
  s.info.tags = {"orders", "billing"};

  s.servers.push_back({.name = "development",
                       .url = "redis://localhost:6379/0",
                       .protocol = "redis",
                       .protocol_version = "custom",
                       .description = "local Redis",
                       .security_schemes = {}});
  s.servers.push_back({.name = "production",
                       .url = "rediss://orders:s3cret@redis.example.com:6380",
                       .protocol = "rediss",
                       .protocol_version = "custom",
                       .description = "managed Redis with TLS and a password",
                       .security_schemes = {{"user-password", {{"type", "userPassword"}}}}});

  // Nested named types, an enum whose values would be misread by a careless YAML writer,
  // arrays, optional (nullable) fields and a required list.
  s.schemas = json::parse(R"({
    "Money": {
      "title": "Money", "type": "object",
      "properties": {
        "amount": {"title": "Amount", "type": "number", "minimum": 0.0},
        "currency": {"title": "Currency", "type": "string", "enum": ["EUR", "USD", "NO"]}
      },
      "required": ["amount", "currency"]
    },
    "OrderStatus": {
      "title": "OrderStatus", "type": "string",
      "enum": ["new", "on", "off", "yes", "null", "~", "1.0", "0x1F", "2024-01-01", "#hash",
               "- dash", "a: b", "tr\u00e4ger", "line\nbreak", ""]
    },
    "OrderItem": {
      "title": "OrderItem", "type": "object",
      "properties": {
        "sku": {"title": "Sku", "type": "string"},
        "quantity": {"title": "Quantity", "type": "integer", "minimum": 1, "default": 1},
        "price": {"$ref": "#/components/schemas/Money"}
      },
      "required": ["sku", "price"]
    },
    "OrderCreated": {
      "title": "OrderCreated", "type": "object",
      "properties": {
        "id": {"title": "Id", "type": "string", "format": "uuid"},
        "items": {"title": "Items", "type": "array", "items": {"$ref": "#/components/schemas/OrderItem"}},
        "status": {"$ref": "#/components/schemas/OrderStatus"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Note"},
        "tags": {"title": "Tags", "type": "array", "items": {"type": "string"}, "default": []}
      },
      "required": ["id", "items", "status"]
    }
  })")
                  .as_object();

  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "orders.created",
                          .handler_name = "HandleOrderCreated",
                          .description = "New orders from the shop: one message per order.",
                          .payload = {{"$ref", "#/components/schemas/OrderCreated"}},
                          .payload_name = "OrderCreated",
                          .bindings = redis_binding("orders.created", "subscribe")});
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "orders.{region}.cancelled",
                          .handler_name = "HandleCancel",
                          .payload = json::parse(R"({"type": "object",
          "properties": {"order_id": {"title": "Order Id", "type": "string"},
                         "reason": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}},
          "required": ["order_id"]})"),
                          .bindings = redis_binding("orders.{region}.cancelled", "psubscribe"),
                          .parameters = {"region"},
                          .headers = json::parse(R"({"type": "object",
          "properties": {"x-tenant": {"type": "string", "description": "tenant id"}}})")});
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "jobs",
                          .handler_name = "HandleJob",
                          .title = "jobs-worker",
                          .description = "Work queue (a Redis list).",
                          .payload = {{"type", "integer"}},
                          .bindings = redis_binding("jobs", "lpop")});
  s.operations.push_back(
      {.kind = aa::operation_kind::subscribe,
       .address = "audit/events",
       .handler_name = "HandleAudit",
       .payload = json::parse(R"({"type": "object", "additionalProperties": true})"),
       .payload_name = "AuditEvent",
       .bindings = {{"redis",
                     {{"channel", "audit/events"},
                      {"method", "xreadgroup"},
                      {"groupName", "audit"},
                      {"consumerName", "c1"},
                      {"bindingVersion", "custom"}}}},
       .servers = {"production"}});
  s.operations.push_back({.kind = aa::operation_kind::publish,
                          .address = "orders.confirmed",
                          .payload = json::parse(R"({"type": "object",
          "properties": {"order_id": {"type": "string"}, "total": {"$ref": "#/components/schemas/Money"}},
          "required": ["order_id", "total"]})"),
                          .payload_name = "OrderConfirmation",
                          .bindings = redis_binding("orders.confirmed", "publish")});
  s.operations.push_back({.kind = aa::operation_kind::publish,
                          .address = "notifications",
                          .payload = {{"type", "string"}},
                          .bindings = redis_binding("notifications", "publish")});
  s.operations.push_back({.kind = aa::operation_kind::subscribe,
                          .address = "internal.debug",
                          .handler_name = "HandleDebug",
                          .include_in_schema = false});
  return s;
}

int write_documents(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  aa::service_spec s = example_spec();
  for (aa::spec_version v : {aa::spec_version::v3_0_0, aa::spec_version::v2_6_0}) {
    json::value doc = aa::generate(s, v);
    std::string stem = "asyncapi-" + std::string(aa::version_string(v));
    std::ofstream(dir / (stem + ".json")) << aa::to_json_text(doc);
    std::ofstream(dir / (stem + ".yaml")) << aa::to_yaml(doc);
    std::cout << (dir / (stem + ".json")).string() << '\n'
              << (dir / (stem + ".yaml")).string() << '\n';
  }
  return 0;
}

int serve(const std::string& assets, const std::string& port_file) {
  // Block the stop signals before the server thread exists so it inherits the mask and
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  aa::docs_server server(aa::generate(example_spec()), assets, "127.0.0.1", 0);
  server.start();
  {
    std::ofstream out(port_file + ".tmp");
    out << server.port() << '\n';
  }
  // Renamed into place so a reader never sees a half-written file.
  std::filesystem::rename(port_file + ".tmp", port_file);
  std::cout << "serving on http://127.0.0.1:" << server.port() << "/" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--out") == 0) {
    return write_documents(argv[2]);
  }
  if (argc == 4 && std::strcmp(argv[1], "--serve") == 0) {
    return serve(argv[2], argv[3]);
  }
  std::cerr << "usage: " << argv[0] << " --out DIR | --serve ASSETS_DIR PORT_FILE\n";
  return 2;
}
