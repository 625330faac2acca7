// driver_spec: a driver's typed declaration carried through the seam unread.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <brook/transport.hpp>
#include <string>

namespace {

struct queue {
  static constexpr std::string_view protocol = "mine";
  static constexpr std::string_view kind = "queue";
  static constexpr bool competing = true;
  std::string name;
  std::string group;
  int prefetch = 10;
  brook::capabilities capabilities() const { return {.acks = brook::ack_mode::per_message}; }
  void bindings(std::string_view address, boost::json::object& out) const {
    out["mine"] = boost::json::object{{"queue", address}, {"prefetch", prefetch}};
  }
};

struct topic {  // the least a spec type needs
  static constexpr std::string_view protocol = "other";
  static constexpr std::string_view kind = "topic";
  std::string name;
  bool pattern = false;
};

TEST(DriverSpec, EmptyMeansTheDefaultKind) {
  brook::driver_spec d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.protocol(), "");
  EXPECT_EQ(d.kind(), "");
  EXPECT_FALSE(d.competing());
  EXPECT_EQ(d.get<queue>(), nullptr);
  brook::capabilities c{.ordered = false};
  EXPECT_FALSE(d.capabilities(c));
  EXPECT_FALSE(c.ordered) << "untouched when the type does not say";
  boost::json::object b;
  d.bindings("x", b);
  EXPECT_TRUE(b.empty());
}

TEST(DriverSpec, TheDriverReadsItsOwnTypeBack) {
  brook::driver_spec d = queue{.name = "jobs", .prefetch = 3};
  EXPECT_FALSE(d.empty());
  EXPECT_EQ(d.protocol(), "mine");
  EXPECT_EQ(d.kind(), "queue");
  EXPECT_TRUE(d.competing());
  ASSERT_NE(d.get<queue>(), nullptr);
  EXPECT_EQ(d.get<queue>()->prefetch, 3);
  EXPECT_EQ(d.get<topic>(), nullptr) << "another type is never reinterpreted";
  brook::capabilities c;
  ASSERT_TRUE(d.capabilities(c));
  EXPECT_EQ(c.acks, brook::ack_mode::per_message);
  boost::json::object b;
  d.bindings("prefixed.jobs", b);
  EXPECT_EQ(b.at("mine").at("queue").as_string(), "prefixed.jobs");
  EXPECT_EQ(b.at("mine").at("prefetch").as_int64(), 3);
}

TEST(DriverSpec, CopiesShareOneImmutableValue) {
  brook::driver_spec a = queue{.name = "jobs"};
  auto b = a;
  EXPECT_EQ(a.get<queue>(), b.get<queue>());
}

TEST(DriverSpec, OptionalPartsDefault) {
  brook::driver_spec d = topic{.name = "t"};
  EXPECT_FALSE(d.competing());
  brook::capabilities c;
  EXPECT_FALSE(d.capabilities(c));
  boost::json::object b;
  d.bindings("t", b);
  EXPECT_TRUE(b.empty());
}

TEST(SubscriptionSpec, OfTakesTheSharedWordsFromTheTypedValue) {
  auto s = brook::subscription_spec::of(queue{.name = "jobs", .group = "workers"});
  EXPECT_EQ(s.address, "jobs");
  EXPECT_EQ(s.group, "workers");
  EXPECT_FALSE(s.pattern);
  ASSERT_NE(s.driver.get<queue>(), nullptr);
  auto t = brook::subscription_spec::of(topic{.name = "a.*", .pattern = true});
  EXPECT_EQ(t.address, "a.*");
  EXPECT_TRUE(t.pattern);
  EXPECT_TRUE(t.group.empty());
}

}  // namespace
