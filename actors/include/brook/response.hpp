#pragma once
/// @file
/// A handler result with headers: return `brook::response<T>` instead of `T`
/// to set headers (or the correlation id) on the published result.
/// @code
/// .handle([](const order& o) -> brook::response<receipt> {
///   return {receipt{o.id}, {{"x-shard", "7"}}};
/// });
/// @endcode
#include <brook/headers.hpp>
#include <string>

namespace brook {

template <class T>
struct response {
  T body;
  brook::headers headers;
  std::string correlation_id;  ///< empty = inherit the incoming one
};

}  // namespace brook
