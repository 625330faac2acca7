#include <boost/describe/class.hpp>
#include <brook/memory/broker.hpp>
#include <brook/testing/test_broker.hpp>
#include <iostream>

struct ping {
  int n = 0;
};
BOOST_DESCRIBE_STRUCT(ping, (), (n))

int main() {
  brook::set_log_levels("warn");
  brook::memory::broker broker;
  broker.subscriber("ping").handle([](const ping& p) { return ping{p.n + 1}; });
  brook::testing::test_broker tb{broker};
  auto r = tb.request<ping>("ping", ping{41});
  std::cout << "consumer got " << r.n << std::endl;
  return r.n == 42 ? 0 : 1;
}
