// The sample's own tests, written the way a user tests a service: no server.
#include "greeter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <brook/memory/broker.hpp>
#include <brook/testing/test_broker.hpp>

using testing::SizeIs;

// snippet:test
TEST(Greeter, RepliesAndPublishes) {
  brook::memory::broker broker;
  greeter::declare(broker);
  brook::testing::test_broker tb{broker};
  auto reply = tb.request<greeter::greeting>("user-created", greeter::user_created{"Ada", 1});
  EXPECT_EQ(reply.text, "Hello, Ada");
  EXPECT_THAT(tb.handler("user-created").calls(), SizeIs(1));
  EXPECT_EQ(tb.published<greeter::greeting>("greetings").size(), 1u);
}
// snippet:end
