// The Kafka driver against the broker's secured listeners (scripts/services.sh starts
// them beside the plain one): SASL/PLAIN with a user and password on port + 2, TLS with
// the CA scripts/gen-certs.sh made on port + 3. Refused credentials fail app.start()
// with the broker's reason, and the password appears in no error or log line.
#include <brook/app.hpp>
#include <brook/kafka/broker.hpp>
#include <cstdlib>
#include <mutex>

#include "../../support/eventually.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::unique;
using brook_test_support::eventually;
namespace kafka = brook::kafka;

namespace {

/// The broker's listener `offset` ports above the plain one.
std::string listener(int offset) {
  auto b = brook_test::bootstrap();
  auto colon = b.rfind(':');
  return b.substr(0, colon + 1) + std::to_string(std::stoi(b.substr(colon + 1)) + offset);
}

std::string ca_file() {
  const char* run = std::getenv("BROOK_RUN_DIR");
  return std::string{run && *run ? run : "/tmp/brook-run"} + "/certs/ca.pem";
}

/// Events the driver reported (its log lines), to check no secret is among them.
struct events {
  std::mutex mtx;
  std::vector<std::string> lines;
  std::function<void(const brook::error_info&)> sink() {
    return [this](const brook::error_info& e) {
      std::lock_guard lock{mtx};
      lines.push_back(e.to_string() + " " + e.message);
    };
  }
  bool mention(const std::string& s) {
    std::lock_guard lock{mtx};
    for (auto& l : lines)
      if (l.find(s) != std::string::npos)
        return true;
    return false;
  }
};

/// A request through a group subscriber on `broker`: the connection works both ways.
void round_trip(kafka::broker& broker) {
  auto topic = unique("sec");
  broker
      .subscriber(
          kafka::topic{.name = topic, .group = "sec", .reset = kafka::offset_reset::earliest})
      .handle([](const std::string& s) { return s + "!"; });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  EXPECT_EQ(broker.request<std::string>(topic, std::string{"hi"}, {.timeout = 15s}), "hi!");
}

kafka::settings sasl(std::string password, events& ev) {
  kafka::settings s;
  s.config = {{"security.protocol", "SASL_PLAINTEXT"},
              {"sasl.mechanism", "PLAIN"},
              {"sasl.username", "brook"},
              {"sasl.password", std::move(password)}};
  s.connect_timeout = 5s;
  s.on_event = ev.sink();
  return s;
}

}  // namespace

TEST(KafkaSecurity, SaslUserAndPasswordConnect) {
  events ev;
  kafka::broker broker{listener(2), sasl("brook-secret", ev)};
  round_trip(broker);
  EXPECT_FALSE(ev.mention("brook-secret"));
}

TEST(KafkaSecurity, RefusedCredentialsFailTheStartWithoutTheSecret) {
  events ev;
  kafka::broker broker{listener(2), sasl("not-the-password-42", ev)};
  broker.subscriber(kafka::topic{.name = unique("sec"), .group = "sec"})
      .handle([](const std::string&) {});
  brook::app app{broker};
  try {
    app.start({.log_level = "off"});
    FAIL() << "refused credentials started the app";
  } catch (const std::exception& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("refused the credentials"), std::string::npos) << what;
    EXPECT_EQ(what.find("not-the-password-42"), std::string::npos) << what;
  }
  EXPECT_FALSE(ev.mention("not-the-password-42"));
}

TEST(KafkaSecurity, TlsWithTheTestCaConnects) {
  kafka::settings s;
  s.config = {{"security.protocol", "SSL"}, {"ssl.ca.location", ca_file()}};
  kafka::broker broker{listener(3), s};
  round_trip(broker);
}
