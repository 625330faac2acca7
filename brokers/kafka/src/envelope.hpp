#pragma once
// Kafka records <-> the seam's envelopes and outgoing messages, with the headers
// FastStream writes: correlation_id, content-type, reply_to, message_id.
#include <librdkafka/rdkafka.h>

#include <brook/transport.hpp>
#include <string_view>

namespace brook::kafka {

/// Fills `env` from a consumed record (not its acknowledger), writing over what a pooled
/// envelope held. A record without a `message_id` header gets FastStream's "<offset>-<timestamp>".
void to_envelope(const rd_kafka_message_t& m, envelope& env);

/// The record's headers for `out`; the caller owns the result (or hands it to producev).
rd_kafka_headers_t* make_headers(const outgoing& out);

/// An error_info for a librdkafka error code at `where`.
error_info kafka_error(rd_kafka_resp_err_t err, std::string_view where);

/// "topic:partition:offset", the broker's own id of a record.
std::string record_id(std::string_view topic, std::int32_t partition, std::int64_t offset);
/// The same, written over `into` (its storage reused).
void record_id(std::string_view topic, std::int32_t partition, std::int64_t offset,
               std::string& into);

}  // namespace brook::kafka
