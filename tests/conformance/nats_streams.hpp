#pragma once
// JetStream streams of this test process's own. ctest runs each conformance test as a
// process of its own, two at a time; on one shared stream their subscribers would merge
// their subjects into it at the same moment from two processes, which nats-server 2.9
// can get wrong (a subject taken twice stores each message twice). Each process names
// its streams after its pid and deletes them when its tests end.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>

namespace conformance {

class nats_streams final : public ::testing::Environment {
public:
  std::string own(const std::string& base) {
    auto name = base + "-" + std::to_string(::getpid());
    names_.insert(name);
    return name;
  }
  void TearDown() override {
    auto* url = std::getenv("BROOK_NATS_URL");
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    if (natsConnection_ConnectTo(&nc, url ? url : "nats://127.0.0.1:4232") == NATS_OK &&
        natsConnection_JetStream(&js, nc, nullptr) == NATS_OK)
      for (auto& name : names_)
        (void)js_DeleteStream(js, name.c_str(), nullptr, nullptr);
    if (js)
      jsCtx_Destroy(js);
    if (nc)
      natsConnection_Destroy(nc);
  }

private:
  std::set<std::string> names_;
};

/// `base` as this process's own stream ("dconf" -> "dconf-4242"), deleted at the end.
inline std::string own_stream(const std::string& base) {
  static auto* env =
      static_cast<nats_streams*>(::testing::AddGlobalTestEnvironment(new nats_streams));
  return env->own(base);
}

}  // namespace conformance
