#include "transport_conformance.hpp"

#include <brook/memory/transport.hpp>

using conformance::TransportConformance;

INSTANTIATE_TEST_SUITE_P(memory, TransportConformance,
                         ::testing::Values(conformance::target{
                           "memory", [] { return brook::memory::make_transport(); }}),
                         [](const auto& p) { return p.param.name; });

// The in-memory broker has no server to restart: TransportReconnect is for drivers with one.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TransportReconnect);
