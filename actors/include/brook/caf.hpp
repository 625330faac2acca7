#pragma once
/// @file
/// brook inside an existing CAF 0.17 system: handlers that are your own actors.
///
/// A typed actor whose interface takes the decoded message type and replies with
/// the result type is a handler like a function: the same codec and validation,
/// ack policy, result publishing and AsyncAPI schemas. The request goes out from
/// the subscriber's own handler actor (no helper actor per message), which keeps
/// serving other messages while the reply is pending.
///
/// @code
/// using pricing = caf::typed_actor<caf::replies_to<order>::with<receipt>>;
/// pricing::behavior_type pricer(pricing::pointer) {
///   return {[](const order& o) { return receipt{o.id, o.qty * 3}; }};
/// }
/// auto p = sys.spawn(pricer);
/// broker.subscriber("orders").publisher("receipts").handle(brook::typed_actor_handler(p));
/// @endcode
/// The message types cross CAF's mailbox, so CAF 0.17 must accept them: give them
/// an `inspect` overload, or `CAF_ALLOW_UNSAFE_MESSAGE_TYPE(order)` for local use.
///
/// A subscriber can also hand the raw envelope to an untyped CAF actor.
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
#include <caf/event_based_actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>

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

namespace detail {
/// The handler actor whose call runs on this thread; null elsewhere.
caf::event_based_actor*& current_actor() noexcept;

/// The failure a typed actor handler reports for a CAF error reply.
std::exception_ptr actor_failure(caf::actor_system& sys, const caf::error& err);

template <class Sig>
struct single_signature;
template <class In, class Out>
struct single_signature<caf::typed_mpi<caf::detail::type_list<In>, caf::output_tuple<Out>>> {
  using in = In;
  using out = Out;
};
}  // namespace detail

/// A handler function for a typed actor with one `replies_to<In>::with<Out>`
/// interface: pass it to `.handle(...)`. It decodes `In`, asks `target` (up to
/// `timeout`), and publishes the `Out` it answers; a CAF error fails the message
/// like a throwing handler (retry, dead-letter and ack policy apply).
template <class Sig>
auto typed_actor_handler(caf::typed_actor<Sig> target,
                         std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  using In = typename detail::single_signature<Sig>::in;
  using Out = typename detail::single_signature<Sig>::out;
  return [target, timeout](In in) -> deferred<Out> {
    promise<Out> p;
    auto result = p.get_deferred();
    auto* self = detail::current_actor();
    if (!self)
      throw std::logic_error("brook::typed_actor_handler runs inside a subscriber's handler actor");
    auto& sys = self->system();
    self->request(target, caf::timespan{timeout}, std::move(in))
        .then([p](Out& out) mutable { p.set_value(std::move(out)); },
              [p, &sys](caf::error& err) mutable {
                p.set_exception(detail::actor_failure(sys, err));
              });
    return result;
  };
}

}  // namespace brook

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(brook::envelope_ptr)
