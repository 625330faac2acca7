// Authentication and TLS against real nats-servers started for each case (ports 4260+):
// user/password in the URL, a token, TLS with the test CA (and mutual TLS). A secret never
// shows in logs, errors, the transport's URL or the AsyncAPI document; a wrong one fails
// the start with a clear error instead of retrying forever.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/logger.hpp>
#include <brook/nats/broker.hpp>
#include <sstream>

#include "../../support/eventually.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::unique;
using brook_test_support::eventually;
namespace nats = brook::nats;

namespace {

/// A nats-server on `port` with `args`, stopped at the end of the test.
class server {
public:
  server(int port, std::string args) : port_(port) {
    auto cmd = "BROOK_NATS_ARGS='" + args + "' BROOK_NATS_PORT=" + std::to_string(port) + " " +
               BROOK_SERVICES_SH " start nats >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~server() { brook_test::services("stop nats", port_); }
  bool ok() const { return ok_; }

private:
  int port_;
  bool ok_ = false;
};

std::string certs() {
  static const std::string dir = [] {
    std::string d = "/tmp/brook-run/certs";
    EXPECT_EQ(std::system((BROOK_GEN_CERTS " " + d + " >/dev/null").c_str()), 0);
    return d;
  }();
  return dir;
}

/// Everything brook's loggers write while alive.
class log_capture {
public:
  log_capture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    brook::add_log_sink(sink_);
  }
  ~log_capture() { brook::remove_log_sink(sink_); }
  std::string text() {
    sink_->flush();
    return out_.str();
  }

private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

/// A request to itself through `broker`, to show the connection works.
void round_trip(nats::broker& broker) {
  auto subject = unique("sec");
  broker.subscriber(subject).handle([](const std::string& s) { return s + "!"; });
  brook::app app{broker};
  app.start({.log_level = "info"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  EXPECT_EQ(broker.request<std::string>(subject, std::string{"hi"}), "hi!");
  app.stop();
}

TEST(NatsSecurity, UserAndPasswordAuthenticateAndThePasswordNeverShows) {
  server srv{4260, "--user brook --pass s3cr3t-pw"};
  ASSERT_TRUE(srv.ok());
  log_capture logs;
  nats::broker broker{"nats://brook:s3cr3t-pw@127.0.0.1:4260"};
  round_trip(broker);
  EXPECT_EQ(broker.get_transport()->url(), "nats://brook:***@127.0.0.1:4260");
  auto doc = boost::json::serialize(brook::asyncapi::generate(brook::app{broker}.describe()));
  EXPECT_EQ(doc.find("s3cr3t"), std::string::npos) << "not in the AsyncAPI document";
  auto text = logs.text();
  EXPECT_NE(text.find("connected to nats://brook:***@127.0.0.1:4260"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << "not in the logs";
}

TEST(NatsSecurity, AWrongPasswordFailsTheStartClearlyWithoutShowingIt) {
  server srv{4261, "--user brook --pass right-one"};
  ASSERT_TRUE(srv.ok());
  nats::broker broker{"nats://brook:wrong-one@127.0.0.1:4261"};
  broker.subscriber(unique("x")).handle([](const std::string&) {});
  brook::app app{broker};
  try {
    app.start({.log_level = "off"});
    ADD_FAILURE() << "started with a wrong password";
  } catch (const std::exception& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("Authentication Violation"), std::string::npos) << what;
    EXPECT_NE(what.find("check the user, password"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-one"), std::string::npos) << what;
  }
}

TEST(NatsSecurity, ATokenAuthenticates) {
  server srv{4262, "--auth t0ken-42"};
  ASSERT_TRUE(srv.ok());
  nats::settings s;
  s.token = "t0ken-42";
  log_capture logs;
  nats::broker broker{"nats://127.0.0.1:4262", s};
  round_trip(broker);
  EXPECT_EQ(logs.text().find("t0ken-42"), std::string::npos);
}

TEST(NatsSecurity, TlsWithTheTestCaAndMutualTls) {
  auto dir = certs();
  server srv{4263, "--tls --tlscert " + dir + "/server.pem --tlskey " + dir +
                       "/server.key --tlsverify --tlscacert " + dir + "/ca.pem"};
  ASSERT_TRUE(srv.ok());
  nats::settings s;
  s.tls_ca_file = dir + "/ca.pem";
  s.tls_cert_file = dir + "/client.pem";
  s.tls_key_file = dir + "/client.key";
  nats::broker broker{"tls://127.0.0.1:4263", s};
  round_trip(broker);
}

TEST(NatsSecurity, TlsWithoutTheClientCertificateIsRefused) {
  auto dir = certs();
  server srv{4264, "--tls --tlscert " + dir + "/server.pem --tlskey " + dir +
                       "/server.key --tlsverify --tlscacert " + dir + "/ca.pem"};
  ASSERT_TRUE(srv.ok());
  nats::settings s;
  s.tls_ca_file = dir + "/ca.pem";  // no client certificate
  nats::broker broker{"tls://127.0.0.1:4264", s};
  broker.subscriber(unique("x")).handle([](const std::string&) {});
  brook::app app{broker};
  // The server closes the connection after the handshake (TLS 1.3 checks the client's
  // certificate last), which looks like any dropped connection: not ready, retrying.
  app.start({.log_level = "off"});
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(app.ready());
  app.stop();
}

}  // namespace
