// The NATS driver's pure helpers: credentials redacted from every server of a URL list,
// and which stream subjects already take a subscriber's subject (FastStream's merge).
#include <gtest/gtest.h>

#include <brook/nats/settings.hpp>

#include "subscriptions.hpp"

namespace {

TEST(NatsUrl, RedactsThePasswordOrTokenOfEveryServer) {
  using brook::nats::redact_url;
  EXPECT_EQ(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(redact_url("nats://user:pw@h:1"), "nats://user:***@h:1");
  EXPECT_EQ(redact_url("nats://s3cret-token@h:1"), "nats://***@h:1");
  EXPECT_EQ(redact_url("nats://a:b@h1:1,nats://c:d@h2:2,tls://h3:3"),
            "nats://a:***@h1:1,nats://c:***@h2:2,tls://h3:3");
  EXPECT_EQ(redact_url("nats://u:p@ss@h:1"), "nats://u:***@h:1") << "the last @ ends the secret";
}

TEST(NatsSubjects, AStreamSubjectCoversWhatItsWildcardsMatch) {
  using brook::nats::covers;
  EXPECT_TRUE(covers("orders", "orders"));
  EXPECT_FALSE(covers("orders", "orders.eu"));
  EXPECT_TRUE(covers("orders.*", "orders.eu"));
  EXPECT_TRUE(covers("orders.*", "orders.*"));
  EXPECT_FALSE(covers("orders.*", "orders.eu.x"));
  EXPECT_TRUE(covers("orders.>", "orders.eu.x"));
  EXPECT_TRUE(covers("orders.>", "orders.*"));
  EXPECT_FALSE(covers("orders.>", "orders"));
  EXPECT_FALSE(covers("orders.eu", "orders.*")) << "a literal does not take a wildcard";
  EXPECT_FALSE(covers("orders.*", "orders.>"));
  EXPECT_TRUE(covers(">", "a.b.c"));
}

}  // namespace
