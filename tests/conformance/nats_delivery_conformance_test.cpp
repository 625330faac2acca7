// The core's delivery guarantees on every NATS kind, against the real server
// (scripts/services.sh start nats; BROOK_NATS_URL, default 127.0.0.1:4232).
#include <nats/nats.h>

#include <brook/nats/broker.hpp>
#include <cstdlib>
#include <thread>

#include "delivery_conformance.hpp"
#include "nats_streams.hpp"

using conformance::DeliveryConformance;
using namespace std::chrono_literals;

namespace {

namespace nats = brook::nats;

const std::string stream = conformance::own_stream("dconf");

std::string nats_url() {
  auto* url = std::getenv("BROOK_NATS_URL");
  return url ? url : "nats://127.0.0.1:4232";
}

std::unique_ptr<brook::broker> make_nats() {
  nats::settings s;
  s.fetch_wait = 100ms;
  return std::make_unique<nats::broker>(nats_url(), s);
}

std::size_t nothing_kept(brook::broker&, const std::string&, std::size_t) {
  return 0;
}

/// The queue's durable consumer: what it has not delivered yet plus what waits for an ack.
std::size_t consumer_backlog(brook::broker&, const std::string& subject, std::size_t) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsConsumerInfo* ci = nullptr;
  std::size_t n = 0;
  auto durable = "dconf-" + subject;
  bool found = false;
  if (natsConnection_ConnectTo(&nc, nats_url().c_str()) == NATS_OK &&
      natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
    // The server applies acks a moment after they arrive: let the last ones land.
    for (int tries = 0; tries < 40; ++tries) {
      if (ci)
        jsConsumerInfo_Destroy(ci);
      ci = nullptr;
      if (js_GetConsumerInfo(&ci, js, stream.c_str(), durable.c_str(), nullptr, nullptr) != NATS_OK)
        break;
      found = true;
      n = static_cast<std::size_t>(ci->NumPending) + static_cast<std::size_t>(ci->NumAckPending);
      if (ci->NumAckPending == 0)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  if (!found)
    ADD_FAILURE() << "no consumer " << durable << " on stream " << stream;
  if (ci)
    jsConsumerInfo_Destroy(ci);
  if (js)
    jsCtx_Destroy(js);
  if (nc)
    natsConnection_Destroy(nc);
  return n;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    nats, DeliveryConformance,
    ::testing::Values(
        conformance::delivery_target{.name = "subject",
                                     .make_broker = make_nats,
                                     .subscribe_as = nats::subject{},
                                     .on_broker = nothing_kept,
                                     .settle = 50ms},
        conformance::delivery_target{.name = "jetstream_queue",
                                     .make_broker = make_nats,
                                     .subscribe_as = nats::jetstream{.stream = stream},
                                     .publish_as = nats::jetstream_out{},
                                     .group = "dconf",
                                     .on_broker = consumer_backlog},
        conformance::delivery_target{
            .name = "jetstream_push_queue",
            .make_broker = make_nats,
            .subscribe_as = nats::jetstream{.stream = stream, .mode = nats::consumer_mode::push},
            .publish_as = nats::jetstream_out{},
            .group = "dconf",
            .on_broker = consumer_backlog}),
    [](const auto& p) { return p.param.name; });
