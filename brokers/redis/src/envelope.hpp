#pragma once
/// @file
/// FastStream's Redis message envelope (see docs wire-compat.md, "Redis envelope").
///
/// @code
/// std::string wire;
/// if (auto err = encode_envelope(out, wire)) return fail(err);   // BinaryMessageFormatV1
/// auto env = std::make_shared<brook::envelope>();
/// decode_envelope(wire, *env);   // binary V1, legacy JSON or raw bytes
/// @endcode
#include <brook/errc.hpp>
#include <brook/transport.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook::redis {

/// The envelope's field inside a stream entry.
inline constexpr std::string_view stream_data_field = "__data__";

/// How an inbound payload was framed.
enum class envelope_format {
  binary_v1,    ///< BinaryMessageFormatV1 (byte lengths, or FastStream's character counts)
  legacy_json,  ///< FastStream 0.5's `{"data": ..., "headers": ...}`
  raw,          ///< plain bytes, no headers
  /// Starts with the binary envelope's magic but does not parse (truncated, another version,
  /// lengths that fit neither as bytes nor as characters). Delivered like `raw`, the whole
  /// payload as the body; the caller should warn, since a producer is probably broken.
  malformed_binary,
};

/// Encodes `msg` as BinaryMessageFormatV1 into `out`. Header order: correlation_id (generated
/// when empty), content-type, reply_to, message_id (each when non-empty), then user headers,
/// which replace a header of the same name in place. Fails with `errc::invalid_argument` when
/// a header key or value exceeds the format's 16-bit length.
error_info encode_envelope(const outgoing& msg, std::string& out);

/// Decodes `bytes` into `env`: body, headers and the well-known fields (correlation_id,
/// reply_to, content_type, message_id; a missing correlation or message id is generated, the
/// same id for both as FastStream does). Never fails: unparseable input is raw bytes
/// (`malformed_binary` when it began like a binary envelope).
///
/// FastStream writes a header's u16 length as its character count (Python `len(str)`), not its
/// UTF-8 byte count; for ASCII the two agree. When the byte lengths do not lead to the data
/// offset, the header block is read again counting UTF-8 characters, and accepted if that ends
/// exactly at the data offset. `encode_envelope` always writes byte lengths.
envelope_format decode_envelope(std::string_view bytes, envelope& env);

/// Decodes a stream entry: the envelope in `__data__`, or else (a foreign producer) a JSON
/// object of all fields as the body with content type `application/json`.
envelope_format decode_stream_entry(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields, envelope& env);

}  // namespace brook::redis
