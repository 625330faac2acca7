// Tracing: FastStream's spans and W3C propagation around the core's deliveries and publishes,
// on the in-memory broker, with a capturing exporter. The OpenTelemetry Collector and the
// Python FastStream interop tests are under integration/.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/task.hpp>
#include <brook/telemetry/metrics.hpp>
#include <brook/telemetry/tracing.hpp>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

#include "../support/eventually.hpp"
#include "../unit/test_types.hpp"

using brook::telemetry::span_data;
using brook_test_support::eventually;
using namespace std::chrono_literals;

namespace {

/// Keeps every exported span.
struct capture {
  std::mutex mtx;
  std::vector<span_data> spans;
  std::string service;

  brook::telemetry::span_exporter exporter() {
    return [this](const std::vector<span_data>& batch, const std::string& svc) {
      std::lock_guard lock{mtx};
      spans.insert(spans.end(), batch.begin(), batch.end());
      service = svc;
      return true;
    };
  }
  std::vector<span_data> named(const std::string& name) {
    std::lock_guard lock{mtx};
    std::vector<span_data> out;
    for (auto& s : spans)
      if (s.name == name)
        out.push_back(s);
    return out;
  }
  span_data one(const std::string& name) {
    auto all = named(name);
    EXPECT_EQ(all.size(), 1u) << name;
    return all.empty() ? span_data{} : all.front();
  }
  std::size_t size() {
    std::lock_guard lock{mtx};
    return spans.size();
  }
};

std::string attr(const span_data& s, std::string_view key) {
  auto* a = s.attribute(key);
  if (!a)
    return "<none>";
  if (auto* v = std::get_if<std::string>(&a->value))
    return *v;
  if (auto* v = std::get_if<std::int64_t>(&a->value))
    return std::to_string(*v);
  return std::get<bool>(a->value) ? "true" : "false";
}

const std::string upstream_trace = "0af7651916cd43dd8448eb211c80319c";
const std::string upstream_span = "b7ad6b7169203331";

brook::publish_options traced(std::string flags = "01") {
  brook::publish_options o;
  o.headers.set("traceparent", "00-" + upstream_trace + "-" + upstream_span + "-" + flags);
  o.headers.set("tracestate", "vendor=abc");
  o.headers.set("baggage", "tenant=acme,region=eu");
  return o;
}

TEST(Tracing, AChainOfHandlersIsOneTraceWithFastStreamsSpans) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::memory::broker broker;
  std::mutex mtx;
  std::vector<brook::headers> seen;  // what the second handler received
  broker.subscriber("orders").publisher("receipts").handle([](const tt::order& o) -> tt::receipt {
    return {o.id, o.qty * 2};
  });
  broker.subscriber("receipts").handle([&](const tt::receipt&, brook::message& m) {
    std::lock_guard lock{mtx};
    seen.push_back(m.headers());
  });
  brook::app app{broker, {.title = "shop"}};
  app.observe(tracing.observer());
  app.start({.workers = 2, .log_level = "off"});
  ASSERT_FALSE(broker.publish("orders", boost::json::parse(R"({"id":"o1","qty":2})")));
  ASSERT_TRUE(eventually([&] { return app.stats().at(1).processed == 1; }));
  app.stop();  // the stop exports what is queued
  EXPECT_EQ(cap.service, "shop");

  // The first publish came from outside any handler: its `create` span is the root.
  auto c1 = cap.one("orders create");
  auto p1 = cap.one("orders publish");
  auto r1 = cap.one("orders process");
  auto c2 = cap.one("receipts create");
  auto p2 = cap.one("receipts publish");
  auto r2 = cap.one("receipts process");
  EXPECT_EQ(cap.size(), 6u);
  for (auto* s : {&p1, &r1, &c2, &p2, &r2})
    EXPECT_EQ(s->trace_id, c1.trace_id) << s->name;
  EXPECT_EQ(c1.trace_id.size(), 32u);
  EXPECT_TRUE(c1.parent_span_id.empty());
  EXPECT_EQ(c1.span_kind, span_data::kind::producer);
  EXPECT_EQ(p1.parent_span_id, c1.span_id);
  EXPECT_EQ(r1.parent_span_id, c1.span_id);  // the context `traceparent` carried
  EXPECT_EQ(r1.span_kind, span_data::kind::consumer);
  EXPECT_EQ(c2.parent_span_id, r1.span_id);  // the result is the delivery's child
  EXPECT_EQ(p2.parent_span_id, c2.span_id);
  EXPECT_EQ(r2.parent_span_id, c2.span_id);
  // The process span lasts from reception to settlement, after its result's publish began.
  EXPECT_LE(r1.start_unix_nano, p2.start_unix_nano);
  EXPECT_GE(r1.end_unix_nano, r1.start_unix_nano);

  EXPECT_EQ(attr(r1, "messaging.system"), "memory");
  EXPECT_EQ(attr(r1, "messaging.operation"), "process");
  EXPECT_EQ(attr(r1, "messaging.destination_publish.name"), "orders");
  EXPECT_EQ(attr(r1, "messaging.message.payload_size_bytes"), "19");
  EXPECT_NE(attr(r1, "messaging.message.id"), "<none>");
  EXPECT_EQ(attr(r1, "messaging.brook.status"), "acked");
  EXPECT_FALSE(r1.error);
  EXPECT_EQ(attr(p2, "messaging.operation"), "publish");
  EXPECT_EQ(attr(p2, "messaging.destination.name"), "receipts");
  EXPECT_EQ(attr(p2, "messaging.message.conversation_id"),
            attr(r2, "messaging.message.conversation_id"));

  std::lock_guard lock{mtx};
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0].find("traceparent"));
  EXPECT_EQ(*seen[0].find("traceparent"), "00-" + c1.trace_id + "-" + c2.span_id + "-01");
}

TEST(Tracing, AnIncomingContextIsContinuedWithItsStateAndBaggage) {
  capture cap;
  brook::telemetry::tracing tracing{{.service_name = "svc", .exporter = cap.exporter()}};
  brook::memory::broker broker;
  std::mutex mtx;
  brook::headers out;
  broker.subscriber("in").publisher("out").handle([](const std::string& s) { return s + "!"; });
  broker.subscriber("out").handle([&](const std::string&, brook::message& m) {
    std::lock_guard lock{mtx};
    out = m.headers();
  });
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("in", std::string{"x"}, traced()));
  ASSERT_TRUE(eventually([&] { return app.stats().at(1).processed == 1; }));
  app.stop();
  EXPECT_EQ(cap.service, "svc");
  // The publish carried the caller's context: its `create` span is the caller's child.
  auto in = cap.one("in create");
  EXPECT_EQ(in.trace_id, upstream_trace);
  EXPECT_EQ(in.parent_span_id, upstream_span);
  EXPECT_EQ(in.span_kind, span_data::kind::producer);
  auto r = cap.one("in process");
  EXPECT_EQ(r.trace_id, upstream_trace);
  EXPECT_EQ(r.parent_span_id, in.span_id);
  EXPECT_EQ(r.trace_state, "vendor=abc");
  auto c = cap.one("out create");
  EXPECT_EQ(c.parent_span_id, r.span_id);
  std::lock_guard lock{mtx};
  ASSERT_TRUE(out.find("traceparent") && out.find("tracestate") && out.find("baggage"));
  EXPECT_EQ(*out.find("traceparent"), "00-" + upstream_trace + "-" + c.span_id + "-01");
  EXPECT_EQ(*out.find("tracestate"), "vendor=abc");
  EXPECT_EQ(*out.find("baggage"), "tenant=acme,region=eu");
}

TEST(Tracing, AFailedHandlerMarksItsSpanWithTheExceptionType) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const tt::order& o) {
    if (o.qty < 0)
      throw std::invalid_argument("qty must not be negative");
  });
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("in", boost::json::parse(R"({"id":"a","qty":-1})")));
  ASSERT_FALSE(broker.publish("in", std::string{"{not json"}));
  ASSERT_TRUE(eventually([&] { return app.stats().at(0).failed == 2; }));
  app.stop();
  auto spans = cap.named("in process");
  ASSERT_EQ(spans.size(), 2u);
  std::set<std::string> types;
  for (auto& s : spans) {
    EXPECT_TRUE(s.error);
    ASSERT_EQ(s.events.size(), 1u);
    EXPECT_EQ(s.events[0].name, "exception");
    types.insert(attr(s, "error.type"));
    EXPECT_EQ(s.status_message, attr(s, "error.type"));
  }
  EXPECT_EQ(types, (std::set<std::string>{"std::invalid_argument", "decode_failure"}));
}

// A coroutine handler's publishes after a `co_await` resume on its actor with its trace.
TEST(Tracing, APublishAfterAnAwaitIsStillTheDeliverysChild) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::memory::broker broker;
  auto audit = broker.publisher("audit");
  auto later = broker.publisher("later");
  broker.subscriber("in").handle([&](std::string s) -> brook::task<> {
    co_await brook::sleep_for{20ms};
    auto err = co_await audit.publish_async(s);
    if (err)
      throw std::runtime_error(err.to_string());
    co_await brook::sleep_for{5ms};
    if (auto e = later.publish(s))  // a plain call, after two resumptions
      throw std::runtime_error(e.to_string());
  });
  std::atomic<int> got{0};
  broker.subscriber("audit").handle([&](const std::string&) { ++got; });
  broker.subscriber("later").handle([&](const std::string&) { ++got; });
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 2, .log_level = "off"});
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(broker.publish("in", std::to_string(i), traced()));
  ASSERT_TRUE(eventually([&] { return got.load() == 6 && app.stats().at(0).processed == 3; }));
  app.stop();
  auto process = cap.named("in process");
  ASSERT_EQ(process.size(), 3u);
  std::set<std::string> parents;
  for (auto& p : process)
    parents.insert(p.span_id);
  for (std::string dest : {"audit", "later"}) {
    auto creates = cap.named(dest + " create");
    ASSERT_EQ(creates.size(), 3u) << dest;
    std::set<std::string> theirs;
    for (auto& c : creates) {
      EXPECT_EQ(c.trace_id, upstream_trace);
      theirs.insert(c.parent_span_id);
    }
    EXPECT_EQ(theirs, parents) << dest << ": each publish is the child of its own delivery";
  }
}

TEST(Tracing, ABatchLinksToEveryMembersTrace) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::memory::broker broker;
  std::atomic<int> got{0};
  broker.subscriber("in").batch(3, 5s).handle(
      [&](const std::vector<std::string>& xs) { got += static_cast<int>(xs.size()); });
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("in", std::string{"a"}, traced()));
  ASSERT_FALSE(broker.publish("in", std::string{"b"}, traced()));
  ASSERT_FALSE(broker.publish("in", std::string{"c"}));  // its own root `create`
  ASSERT_TRUE(eventually([&] { return got.load() == 3; }));
  app.stop();
  auto create = cap.named("in create");
  auto process = cap.one("in process");
  EXPECT_EQ(attr(process, "messaging.batch.message_count"), "3");
  // The batch's own root, and the one the third publish made for its message.
  span_data root;
  for (auto& c : create)
    if (c.span_kind == span_data::kind::consumer)
      root = c;
  EXPECT_EQ(process.parent_span_id, root.span_id);
  EXPECT_NE(process.trace_id, upstream_trace);
  // One link per member: the context each member's publish gave it.
  ASSERT_EQ(root.links.size(), 3u);
  std::set<std::string> producers;
  for (auto& c : create)
    if (c.span_kind == span_data::kind::producer)
      producers.insert(c.span_id);
  int upstream = 0;
  for (auto& l : root.links) {
    EXPECT_TRUE(producers.count(l.span_id)) << l.span_id;
    upstream += l.trace_id == upstream_trace;
  }
  EXPECT_EQ(upstream, 2);
}

TEST(Tracing, AnUnsampledContextPropagatesButRecordsNothing) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::memory::broker broker;
  std::mutex mtx;
  brook::headers out;
  broker.subscriber("in").publisher("out").handle([](const std::string& s) { return s; });
  broker.subscriber("out").handle([&](const std::string&, brook::message& m) {
    std::lock_guard lock{mtx};
    out = m.headers();
  });
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("in", std::string{"x"}, traced("00")));
  ASSERT_TRUE(eventually([&] { return app.stats().at(1).processed == 1; }));
  app.stop();
  EXPECT_EQ(cap.size(), 0u);
  std::lock_guard lock{mtx};
  ASSERT_TRUE(out.find("traceparent"));
  auto p = brook::telemetry::trace_parent::parse(*out.find("traceparent"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trace_id, upstream_trace);
  EXPECT_FALSE(p->sampled);
}

// Metrics and tracing observe one app side by side.
TEST(Tracing, WorksBesideMetrics) {
  capture cap;
  brook::telemetry::tracing tracing{{.exporter = cap.exporter()}};
  brook::telemetry::metrics metrics;
  brook::memory::broker broker;
  broker.subscriber("in").publisher("out").handle([](const std::string& s) { return s; });
  broker.subscriber("out").handle([](const std::string&) {});
  brook::app app{broker, {.title = "both"}};
  app.observe(metrics.observer()).observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return app.stats().at(1).processed == 1; }));
  app.stop();
  EXPECT_EQ(cap.named("out process").size(), 1u);
  auto text = metrics.text();
  EXPECT_NE(text.find("faststream_received_messages_total{app_name=\"both\",broker=\"memory\","
                      "handler=\"out\"} 1"),
            std::string::npos)
      << text;
}

// No collector: spans are lost and counted, messages are not held up.
TEST(Tracing, AnUnreachableCollectorCostsSpansNotMessages) {
  brook::telemetry::tracing tracing{{.endpoint = "http://127.0.0.1:1/v1/traces",
                                     .export_timeout = std::chrono::milliseconds{500}}};
  brook::memory::broker broker;
  broker.subscriber("in").handle([](const std::string&) {});
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "off"});
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(broker.publish("in", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return app.stats().at(0).processed == 3; }));
  app.stop();
  EXPECT_TRUE(tracing.flush());
  auto st = tracing.stats();
  EXPECT_EQ(st.spans, 9u);  // per message: create and publish, then process
  EXPECT_EQ(st.exported, 0u);
  EXPECT_GE(st.export_failures, 1u);
  EXPECT_THROW(brook::telemetry::tracing({.endpoint = "https://collector:4318"}),
               std::invalid_argument);
}

TEST(TraceParent, ParsesOnlyValidHeaders) {
  using brook::telemetry::trace_parent;
  auto ok = trace_parent::parse("00-" + upstream_trace + "-" + upstream_span + "-01");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->trace_id, upstream_trace);
  EXPECT_TRUE(ok->sampled);
  EXPECT_EQ(ok->to_header(), "00-" + upstream_trace + "-" + upstream_span + "-01");
  EXPECT_FALSE(trace_parent::parse("00-" + upstream_trace + "-" + upstream_span + "-0"));
  EXPECT_FALSE(trace_parent::parse("00-00000000000000000000000000000000-" + upstream_span + "-01"));
  EXPECT_FALSE(trace_parent::parse("00-" + upstream_trace + "-0000000000000000-01"));
  EXPECT_FALSE(trace_parent::parse("ff-" + upstream_trace + "-" + upstream_span + "-01"));
  EXPECT_FALSE(trace_parent::parse("00-0AF7651916CD43DD8448EB211C80319C-" + upstream_span + "-01"));
  EXPECT_FALSE(trace_parent::parse("00-" + upstream_trace + "-" + upstream_span + "-01-x"));
  // A later version may append fields.
  EXPECT_TRUE(trace_parent::parse("01-" + upstream_trace + "-" + upstream_span + "-01-x"));
  EXPECT_FALSE(trace_parent::parse("00-" + upstream_trace + "-" + upstream_span + "-02")->sampled);
}

TEST(TraceParent, OtlpJsonHasTheCollectorsShape) {
  span_data s;
  s.trace_id = upstream_trace;
  s.span_id = upstream_span;
  s.name = "orders \"eu\"\\\n process";
  s.span_kind = span_data::kind::consumer;
  s.start_unix_nano = 1;
  s.end_unix_nano = 2;
  s.attributes = {{"messaging.system", std::string{"redis"}}, {"n", std::int64_t{3}}};
  s.error = true;
  s.status_message = "boom";
  auto doc = boost::json::parse(brook::telemetry::tracing::otlp_json({s}, "svc"));
  auto& rs = doc.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "svc");
  auto& span = rs.at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId").as_string(), upstream_trace);
  EXPECT_EQ(span.at("name").as_string(), "orders \"eu\"\\\n process");  // escaped, round-trips
  EXPECT_EQ(span.at("kind"), 5);
  EXPECT_EQ(span.at("startTimeUnixNano"), "1");
  EXPECT_EQ(span.at("attributes").at(1).at("value").at("intValue"), "3");
  EXPECT_EQ(span.at("status").at("code"), 2);
  EXPECT_FALSE(span.as_object().contains("parentSpanId"));
}

}  // namespace
