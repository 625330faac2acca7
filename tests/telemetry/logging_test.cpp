// Logs: the access lines and a handler's own lines in the text format (channel | message id)
// and as JSON objects with the message's fields (trace id too when tracing is on); levels
// per logger; bad settings fail with what to write instead.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/logger.hpp>
#include <brook/memory/broker.hpp>
#include <brook/telemetry/tracing.hpp>
#include <sstream>
#include <string>

#include "../support/eventually.hpp"

using brook_test_support::eventually;

namespace {

/// Adds a sink capturing what brook's loggers write; removes it at the end.
class captured {
public:
  captured() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    brook::add_log_sink(sink_);
  }
  ~captured() {
    brook::remove_log_sink(sink_);
    brook::set_log_format("text");
    brook::set_log_levels("info");
  }
  std::vector<std::string> lines() {
    sink_->flush();
    std::vector<std::string> out;
    std::istringstream in{out_.str()};
    for (std::string l; std::getline(in, l);)
      out.push_back(l);
    return out;
  }

private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST(Logging, JsonLinesCarryTheMessagesFields) {
  captured cap;
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("orders").handle([&](const std::string& s, brook::logger& log) {
    log.warn("handling {}", s);
    ++done;
  });
  brook::telemetry::tracing tracing{{.exporter = [](auto&, auto&) { return true; }}};
  brook::app app{broker};
  app.observe(tracing.observer());
  app.start({.workers = 1, .log_level = "info", .log_format = "json"});
  brook::publish_options o;
  o.correlation_id = "corr-1";
  o.message_id = "msg-1";
  ASSERT_FALSE(broker.publish("orders", std::string{"x"}, o));
  ASSERT_TRUE(eventually([&] { return done.load() == 1 && app.stats().at(0).processed == 1; }));
  app.stop();
  std::map<std::string, boost::json::object> by_message;
  for (auto& l : cap.lines()) {
    auto v = boost::json::parse(l);  // every line is one JSON object
    auto& o2 = v.as_object();
    ASSERT_TRUE(o2.contains("time") && o2.contains("level") && o2.contains("logger")) << l;
    by_message[std::string{o2.at("message").as_string()}] = o2;
  }
  for (auto* m : {"Received", "handling x", "Processed"}) {
    ASSERT_TRUE(by_message.count(m)) << m;
    auto& line = by_message[m];
    EXPECT_EQ(line.at("logger"), "brook.access");
    EXPECT_EQ(line.at("channel"), "orders");
    EXPECT_EQ(line.at("handler"), "orders");
    EXPECT_EQ(line.at("message_id"), "msg-1");
    EXPECT_EQ(line.at("correlation_id"), "corr-1");
    EXPECT_EQ(line.at("trace_id").as_string().size(), 32u);
  }
  EXPECT_EQ(by_message["handling x"].at("level"), "warning");
  EXPECT_EQ(by_message.count("brook service 0.1.0 started"), 1u)
      << "the app's own lines are JSON too";
}

TEST(Logging, TextLinesHaveTheAccessColumnsAndLevelsArePerLogger) {
  captured cap;
  brook::memory::broker broker;
  std::atomic<int> done{0};
  broker.subscriber("orders").handle([&](const std::string&, brook::logger& log) {
    log.debug("a debug line");
    ++done;
  });
  brook::app app{broker, {.title = "shop"}};
  app.start({.workers = 1, .log_level = "warn,brook.access=debug"});
  brook::publish_options o;
  o.message_id = "msg-2";
  ASSERT_FALSE(broker.publish("orders", std::string{"x"}, o));
  ASSERT_TRUE(eventually([&] { return done.load() == 1 && app.stats().at(0).processed == 1; }));
  app.stop();
  auto lines = cap.lines();
  auto has = [&](const std::string& s) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](auto& l) { return l.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(has("orders | msg-2 - Received"));
  EXPECT_TRUE(has("orders | msg-2 - a debug line"));
  EXPECT_TRUE(has("orders | msg-2 - Processed"));
  EXPECT_FALSE(has("shop 0.1.0 started")) << "brook is at warn";
  EXPECT_EQ(brook::named_logger("brook")->level(), spdlog::level::warn);
  EXPECT_EQ(brook::named_logger("brook.broker")->level(), spdlog::level::warn);
  EXPECT_EQ(brook::named_logger("brook.access")->level(), spdlog::level::debug);
}

TEST(Logging, BadSettingsSayWhatToWrite) {
  try {
    brook::set_log_levels("info,brook.nope=debug");
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("no logger 'brook.nope'"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("brook.access"), std::string::npos) << e.what();
  }
  EXPECT_THROW(brook::set_log_levels("loud"), std::invalid_argument);
  EXPECT_THROW(brook::set_log_format("xml"), std::invalid_argument);
  brook::set_log_levels("info");

  brook::memory::broker broker;
  brook::app app{broker};
  const char* argv[] = {"svc", "run", "--log-level", "brook.nope=info"};
  EXPECT_EQ(app.run(4, const_cast<char**>(argv)), 2);
  const char* argv2[] = {"svc", "run", "--log-format", "xml"};
  EXPECT_NE(app.run(4, const_cast<char**>(argv2)), 0);
}

}  // namespace
