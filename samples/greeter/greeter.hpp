#pragma once
// The greeter sample's declarations, shared by its main and its test.
#include <boost/describe/class.hpp>
#include <brook/broker.hpp>
#include <cstdint>
#include <string>

namespace greeter {

// snippet:messages
struct user_created {
  std::string username;
  std::int64_t user_id = 0;
};
BOOST_DESCRIBE_STRUCT(user_created, (), (username, user_id))

struct greeting {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(greeting, (), (text))
// snippet:end

/// Declares the service's subscribers and publishers on any broker.
void declare(brook::broker& broker);

}  // namespace greeter
