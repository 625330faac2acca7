#pragma once
// The message brook's broker benchmarks send: ~100 bytes of JSON with its send time.
#include <boost/describe/class.hpp>
#include <cstdint>
#include <string>

namespace bench {

struct tick {
  std::int64_t seq = 0;
  std::int64_t sent_ns = 0;
  std::string source;
  std::string kind;
};
BOOST_DESCRIBE_STRUCT(tick, (), (seq, sent_ns, source, kind))

}  // namespace bench
