// Handlers that are user CAF actors: the request goes out from the subscriber's
// handler actor (its reply is one more message there), so neither that actor nor
// a scheduler thread blocks. Outside a handler actor, a short-lived helper asks.
#include <brook/caf.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace brook {

namespace {

class actor_handler_impl final : public detail::handler_base {
public:
  actor_handler_impl(caf::actor target, std::chrono::milliseconds timeout)
      : target_(std::move(target)), timeout_(timeout) {}

  std::optional<detail::call_result> invoke(message& msg, const detail::invoke_env& env,
                                            detail::completion done) override {
    if (env.record)
      env.record(boost::json::string{msg.body()});
    auto target = target_;
    auto raw = msg.raw();
    auto timeout = caf::timespan{timeout_};
    auto ask = [target, raw, timeout, done](caf::event_based_actor* self, bool helper) {
      self->request(target, timeout, deliver_msg_atom::value, raw)
          .then(
              [=](std::string& body) {
                detail::call_result r;
                if (!body.empty()) {
                  r.value.has_body = true;
                  r.value.data = std::move(body);
                  r.value.content_type = "application/json";
                }
                done(std::move(r));
                if (helper)
                  self->quit();
              },
              [=](caf::error& err) {
                done({{}, detail::actor_failure(self->system(), err)});
                if (helper)
                  self->quit();
              });
    };
    if (auto* self = detail::current_actor()) {
      ask(self, false);
      return std::nullopt;
    }
    // The timeout travels as a spawn argument: CAF 0.17 binds an empty argument
    // tuple through a null pointer (UBSan: reference binding to null).
    target->home_system().spawn(
        [ask](caf::event_based_actor* self, bool helper) { ask(self, helper); }, true);
    return std::nullopt;
  }

private:
  caf::actor target_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::exception_ptr detail::actor_failure(caf::actor_system& sys, const caf::error& err) {
  return std::make_exception_ptr(std::runtime_error("actor handler failed: " + sys.render(err)));
}

detail::handler_ptr actor_handler(caf::actor target, std::chrono::milliseconds timeout) {
  return std::make_shared<actor_handler_impl>(std::move(target), timeout);
}

}  // namespace brook
