#pragma once
// The kafka_orders sample's messages and declarations, shared by main and tests.
#include <boost/describe/class.hpp>
#include <brook/kafka/broker.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orders {

struct line_item {
  std::string sku;
  std::int32_t qty = 0;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty))

struct order {
  std::string id;
  std::string customer;
  std::vector<line_item> items;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, customer, items, note))

struct receipt {
  std::string order_id;
  std::int32_t units = 0;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (order_id, units))

/// Orders arrive on the topic `orders` (group `billing`; they may be requested with a
/// reply); receipts go to the topic `receipts`, which the group `audit` reads in
/// batches of up to 100.
void declare(brook::kafka::broker& broker);

}  // namespace orders
