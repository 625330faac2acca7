#pragma once
// Message types shared by the core tests.
#include <boost/describe/class.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tt {

struct order {
  std::string id;
  std::int32_t qty = 0;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, qty, note))

struct receipt {
  std::string id;
  std::int32_t total = 0;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (id, total))

}  // namespace tt
