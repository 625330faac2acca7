#pragma once
// Helpers shared by the NATS driver tests: the server's URL, unique subjects,
// scripts/services.sh on a port of a test's own, and a look at a JetStream
// consumer behind the driver's back (plain nats.c).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <brook/app.hpp>
#include <cstdlib>
#include <random>
#include <string>

namespace brook_test {

inline std::string nats_url() {
  const char* url = std::getenv("BROOK_NATS_URL");
  return url && *url ? url : "nats://127.0.0.1:4232";
}

/// A subject no other test (or earlier run) uses (one token: no dots).
inline std::string unique(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "bt-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

/// `scripts/services.sh <args>` with the NATS server on `port`; its exit code.
inline int services(const std::string& args, int port) {
  auto cmd = "BROOK_NATS_PORT=" + std::to_string(port) + " " BROOK_SERVICES_SH " " + args +
             " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

inline brook::detail::subscriber_snapshot stats_of(brook::app& app, const std::string& address) {
  for (auto& s : app.stats())
    if (s.address == address)
      return s;
  ADD_FAILURE() << "no subscriber on " << address;
  return {};
}

/// A JetStream consumer as the server has it: not yet delivered, and delivered
/// but not acknowledged. {-1, -1} when there is none.
struct consumer_state {
  long long pending = -1, ack_pending = -1;
};
inline consumer_state consumer(const std::string& url, const std::string& stream,
                               const std::string& name) {
  consumer_state out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsConsumerInfo* ci = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK &&
      natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
      js_GetConsumerInfo(&ci, js, stream.c_str(), name.c_str(), nullptr, nullptr) == NATS_OK) {
    out.pending = static_cast<long long>(ci->NumPending);
    out.ack_pending = ci->NumAckPending;
  }
  if (ci)
    jsConsumerInfo_Destroy(ci);
  if (js)
    jsCtx_Destroy(js);
  if (nc)
    natsConnection_Destroy(nc);
  return out;
}

}  // namespace brook_test
