#pragma once
/// @file
/// A NATS key-value bucket: put, get and erase from anywhere, a handler included.
///
/// @code
/// brook::nats::broker broker{"nats://127.0.0.1:4232"};
/// broker.provide(broker.key_value("config"));            // injectable: brook::dep<key_value>
/// broker.subscriber("orders").handle([](const order& o, brook::dep<brook::nats::key_value> cfg) {
///   auto limit = cfg->get("limit");                         // std::optional<std::string>
///   ...
/// });
/// broker.subscriber(brook::nats::kv_watch{.name = "feature.>", .bucket = "config"})
///     .handle([](const brook::message& m) { reload(m.channel(), m.body()); });
/// @endcode
/// Each call goes to the broker's transport at the time of the call. On NATS it is one
/// round trip to the server on the broker's connection (it blocks the calling thread for
/// that long), so it works once the broker's app started; the bucket is created on first
/// use when missing. Under `brook::testing::test_broker` the buckets live in the test
/// broker (revisions, delete markers and watches as on the server). Errors are
/// `brook::error_info`s that say which bucket and key. The broker outlives its handles.
#include <brook/errc.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace brook {
class broker;
}

namespace brook::nats {

class key_value {
public:
  /// `bucket` on `b`'s transport; `broker.key_value(bucket)` makes one.
  key_value(const brook::broker& b, std::string bucket);
  const std::string& bucket() const noexcept { return bucket_; }
  /// Stores `value` under `key`; `revision`, when given, receives the entry's revision.
  error_info put(std::string_view key, std::string_view value, std::uint64_t* revision = nullptr);
  /// The value under `key`; nullopt when there is none (or it was deleted). `error`,
  /// when given, receives why a lookup failed (nullopt then too).
  std::optional<std::string> get(std::string_view key, error_info* error = nullptr);
  /// Deletes `key` (a delete marker: watchers see it).
  error_info erase(std::string_view key);

private:
  const brook::broker* broker_;
  std::string bucket_;
};

}  // namespace brook::nats
