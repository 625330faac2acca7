#pragma once
// The nats_orders sample's messages and declarations, shared by main and tests.
#include <boost/describe/class.hpp>
#include <brook/nats/broker.hpp>
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
  std::vector<line_item> items;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, items, note))

struct receipt {
  std::string order_id;
  std::string region;
  std::int32_t units = 0;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (order_id, region, units))

/// Orders arrive on the core subjects `orders.<region>` (and may be requested with
/// reply); receipts are stored in the JetStream stream `receipts`, whose durable
/// consumer `audit` reads them back.
void declare(brook::nats::broker& broker);

}  // namespace orders
