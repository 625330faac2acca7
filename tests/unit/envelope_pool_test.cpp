// The envelope pool drivers reuse envelopes with, headers::refill, and message ids.
#include <gtest/gtest.h>

#include <brook/detail/envelope_pool.hpp>
#include <brook/detail/ids.hpp>
#include <cctype>
#include <set>
#include <string>
#include <utility>

namespace {

using brook::detail::envelope_pool;
using views = std::pair<std::string_view, std::string_view>;

struct counting_ack final : brook::acknowledger {
  void ack() override {}
  void nack() override {}
  void reject() override {}
};

#if !defined(__SANITIZE_THREAD__)
TEST(envelope_pool, reuses_an_envelope_once_nobody_holds_it_and_clears_it) {
  envelope_pool pool{8};
  auto first = pool.get();
  auto* address = first.get();
  first->channel = "orders";
  first->body = std::string(200, 'x');
  first->correlation_id = "c";
  first->metadata["key"] = "k";
  first->delivery.attempt = 3;
  first->delivery.broker_id = "orders:0:7";
  const auto capacity = first->body.capacity();
  first.reset();  // the core let go
  auto again = pool.get();
  ASSERT_EQ(again.get(), address);
  EXPECT_TRUE(again->channel.empty());
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(again->body.capacity(), capacity);  // its storage is kept
  EXPECT_TRUE(again->correlation_id.empty());
  EXPECT_TRUE(again->metadata.empty());
  EXPECT_EQ(again->delivery.attempt, 1u);
  EXPECT_TRUE(again->delivery.broker_id.empty());
  EXPECT_EQ(again->ack, nullptr);
}

TEST(envelope_pool, never_hands_out_an_envelope_someone_still_holds) {
  envelope_pool pool{4};
  std::vector<brook::envelope_ptr> held;
  std::set<brook::envelope*> seen;
  for (int i = 0; i < 10; ++i) {  // more than the capacity, all still held
    held.push_back(pool.get());
    EXPECT_TRUE(seen.insert(held.back().get()).second) << "handed out twice at " << i;
  }
  held[0]->body = "still mine";
  auto next = pool.get();
  EXPECT_EQ(seen.count(next.get()), 0u);
  EXPECT_EQ(held[0]->body, "still mine");
}

TEST(envelope_pool, gives_back_an_acknowledger_only_its_envelope_held) {
  envelope_pool pool{4};
  auto env = pool.get();
  auto ack = std::make_shared<counting_ack>();
  auto* raw = ack.get();
  env->ack = ack;
  env.reset();
  std::shared_ptr<brook::acknowledger> old;
  {
    auto again = pool.get(&old);
    EXPECT_EQ(old, nullptr);  // `ack` above still holds it
    again->ack = std::move(ack);
  }
  auto third = pool.get(&old);
  EXPECT_EQ(old.get(), raw);
  EXPECT_EQ(third->ack, nullptr);
}
#endif

TEST(headers, refill_replaces_every_pair_and_keeps_order) {
  brook::headers h{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  const views two[] = {{"x", "9"}, {"y", "8"}};
  h.refill(2, [&](std::size_t i) { return two[i]; });
  EXPECT_EQ(h, (brook::headers{{"x", "9"}, {"y", "8"}}));
  const views three[] = {{"p", ""}, {"q", "7"}, {"r", "6"}};
  h.refill(3, [&](std::size_t i) { return three[i]; });
  EXPECT_EQ(h, (brook::headers{{"p", ""}, {"q", "7"}, {"r", "6"}}));
  h.refill(0, [&](std::size_t i) { return three[i]; });
  EXPECT_TRUE(h.empty());
}

TEST(ids, new_uuid_is_a_version_4_uuid_and_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = brook::detail::new_uuid();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23)
        ASSERT_EQ(id[k], '-') << id;
      else
        ASSERT_TRUE(std::isxdigit(static_cast<unsigned char>(id[k])) && !std::isupper(id[k])) << id;
    }
    EXPECT_EQ(id[14], '4') << id;                                                    // version
    EXPECT_NE(std::string_view{"89ab"}.find(id[19]), std::string_view::npos) << id;  // variant
    EXPECT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
