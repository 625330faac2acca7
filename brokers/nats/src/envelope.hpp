#pragma once
// natsMsg <-> envelope / outgoing, with FastStream's header names (wire-compat.md).
#include <nats/nats.h>

#include <brook/errc.hpp>
#include <brook/transport.hpp>

namespace brook::nats {

/// Fills `env` from `msg`: body, every header, the well-known fields (a missing
/// correlation or message id is generated, one id for both, as FastStream does).
/// A JetStream message's reply subject is its ack subject: `reply_to` then comes
/// only from the `reply_to` header.
void to_envelope(natsMsg* msg, bool jetstream, envelope& env);

/// A message for `out` (the caller destroys it): headers correlation_id (generated
/// when empty), content-type, message_id (when set), reply_to (JetStream only;
/// core uses the native reply subject), then user headers, which win.
error_info make_message(const outgoing& out, bool jetstream, natsMsg*& msg);

/// nats.c's status as brook's words: where it happened, what nats.c said.
error_info status_error(natsStatus s, std::string_view where);

}  // namespace brook::nats
