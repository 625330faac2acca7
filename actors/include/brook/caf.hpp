#pragma once
/// @file
/// brook inside an existing CAF 0.17 system: handlers that are your own actors.
///
/// A subscriber can hand its messages to a CAF actor instead of a function.
/// The actor receives `(brook::deliver_msg_atom, brook::envelope_ptr)` and
/// replies with the encoded result as `std::string` (empty = no result) or
/// with a `caf::error` (the message then fails like a throwing handler).
///
/// @code
/// caf::behavior billing(caf::event_based_actor*, int shard) {
///   return {[](brook::deliver_msg_atom, const brook::envelope_ptr& env) -> std::string {
///     auto o = brook::decode_envelope<order>(*env);       // throws decode_failure
///     return brook::codec::to_string(receipt{o.id});
///   }};
/// }
/// caf::actor_system sys{cfg};
/// brook::memory::broker broker;
/// broker.subscriber("orders").handle_with(brook::actor_handler(sys.spawn(billing, 0)));
/// brook::app app{sys, broker};
/// app.start();
/// @endcode
#include <brook/detail/handler.hpp>
#include <brook/transport.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <chrono>

namespace brook {

/// The atom a user actor handler receives messages with.
using deliver_msg_atom = caf::atom_constant<caf::atom("brook_msg")>;

/// Decodes an envelope's body as `T` (throws decode_failure with the field path).
template <class T>
T decode_envelope(const envelope& env, const codec_options& o = {}) {
  T out{};
  if (auto err = codec::decode_body(env.body, env.content_type, out, o))
    throw decode_failure{env.channel, std::move(*err)};
  return out;
}

/// A handler that forwards each message to `target` and waits up to
/// `timeout` for its reply. The handler actor keeps serving while it waits.
detail::handler_ptr actor_handler(caf::actor target,
                                  std::chrono::milliseconds timeout = std::chrono::seconds{30});

}  // namespace brook

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::envelope_ptr)
