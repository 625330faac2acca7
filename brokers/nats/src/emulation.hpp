#pragma once
// Key-value buckets behind `key_value`: the NATS connection's (kv.cpp) or the test
// broker's (emulation.cpp), whichever the broker's transport is at the call.
#include <brook/transport.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client.hpp"

namespace brook::nats {

class kv_backend {
public:
  virtual ~kv_backend() = default;
  virtual error_info kv_put(const std::string& bucket, const std::string& key,
                            std::string_view value, std::uint64_t* revision) = 0;
  /// nullopt when absent or deleted; `error` says why a lookup failed.
  virtual std::optional<std::string> kv_get(const std::string& bucket, const std::string& key,
                                            error_info& error) = 0;
  /// Writes a delete marker (watchers see it).
  virtual error_info kv_erase(const std::string& bucket, const std::string& key) = 0;
};

/// The buckets of a NATS connection.
std::unique_ptr<kv_backend> make_client_kv(std::shared_ptr<client> cl);

/// The buckets behind transport `t` (a NATS transport, or the test broker's
/// emulation, also behind its recorder); null for any other.
kv_backend* kv_of(brook::transport& t);

/// The test broker's NATS: the in-memory transport `memory` (a
/// `memory::memory_transport`) with key-value buckets and their watches.
std::shared_ptr<brook::transport> make_emulation(std::shared_ptr<brook::transport> memory);

}  // namespace brook::nats
