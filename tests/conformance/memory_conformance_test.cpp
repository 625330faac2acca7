#include <brook/memory/transport.hpp>

#include "transport_conformance.hpp"

using conformance::TransportConformance;

INSTANTIATE_TEST_SUITE_P(memory, TransportConformance,
                         ::testing::Values(conformance::target{
                             "memory", [] { return brook::memory::make_transport(); }}),
                         [](const auto& p) { return p.param.name; });

// The in-memory broker has no server to restart: TransportReconnect is for drivers with one.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TransportReconnect);

// The core's delivery guarantees on the in-memory broker (acks and redelivery).
#include "delivery_conformance.hpp"

using conformance::DeliveryConformance;

INSTANTIATE_TEST_SUITE_P(
    memory, DeliveryConformance,
    ::testing::Values(conformance::delivery_target{
        .name = "memory",
        .make_broker = [] { return std::make_unique<brook::memory::broker>(); },
        .on_broker = [](brook::broker& b, const std::string&,
                        std::size_t) { return static_cast<brook::memory::broker&>(b).pending(); }}),
    [](const auto& p) { return p.param.name; });
