// The caf_host declarations under the test broker: the host's typed actor is the
// handler, with the codec's validation in front of it.
#include "inventory.hpp"

#include <gtest/gtest.h>

#include <brook/testing/test_broker.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <thread>

namespace {

template <class P>
bool eventually(P p) {
  for (int i = 0; i < 500 && !p(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  return p();
}

TEST(CafHost, TheStockActorAnswersReservations) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto stock = sys.spawn(inventory::stock, std::map<std::string, std::int32_t>{{"apple", 3}});
  {
    brook::redis::broker broker{
        "redis://127.0.0.1:1"};  // never dialled: the test broker is in memory
    inventory::declare(broker, stock);
    brook::testing::test_broker tb{broker};
    const brook::publish_options to_list{.driver = brook::redis::list_out{}};
    EXPECT_FALSE(tb.publish("reservations", inventory::reserve{"o1", "apple", 2}, to_list));
    EXPECT_FALSE(tb.publish("reservations", inventory::reserve{"o2", "apple", 2}, to_list));
    EXPECT_FALSE(
        tb.publish("reservations", std::string{R"({"order_id": "o3", "qty": "many"})"}, to_list));
    ASSERT_TRUE(eventually(
        [&] { return tb.published<inventory::reservation>("reservations.done").size() == 2; }));
    auto out = tb.published<inventory::reservation>("reservations.done");
    EXPECT_TRUE(out[0].accepted);
    EXPECT_EQ(out[0].left, 1);
    EXPECT_FALSE(out[1].accepted) << "only 1 left";
    EXPECT_TRUE(eventually([&] { return tb.stats("reservations").decode_errors == 1; }));
  }
  caf::anon_send_exit(stock, caf::exit_reason::user_shutdown);
}

}  // namespace
