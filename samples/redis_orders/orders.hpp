#pragma once
// The redis_orders sample's messages and declarations, shared by main and tests.
#include <boost/describe/class.hpp>
#include <brook/redis/broker.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orders {

enum class priority { normal, express };
BOOST_DESCRIBE_ENUM(priority, normal, express)

struct line_item {
  std::string sku;
  std::int32_t qty = 0;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty))

struct order {
  std::string id;
  std::vector<line_item> items;
  priority prio = priority::normal;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, items, prio, note))

struct receipt {
  std::string order_id;
  std::int32_t units = 0;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (order_id, units))

/// Orders arrive on the pub/sub channel `orders` (and may be requested with
/// reply); receipts go to the stream `receipts`; express orders are also
/// pushed to the list `express`.
void declare(brook::redis::broker& broker);

}  // namespace orders
