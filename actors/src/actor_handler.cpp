// Handlers that are user CAF actors: the request runs from a short-lived
// helper actor, so neither the handler actor nor a scheduler thread blocks.
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
    // The timeout travels as a spawn argument: CAF 0.17 binds an empty argument
    // tuple through a null pointer (UBSan: reference binding to null).
    target->home_system().spawn([=](caf::event_based_actor* self, caf::timespan timeout) {
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
            self->quit();
          },
          [=](caf::error& err) {
            done({{}, std::make_exception_ptr(std::runtime_error(
                        "actor handler failed: " + self->system().render(err)))});
            self->quit();
          });
    }, caf::timespan{timeout_});
    return std::nullopt;
  }

private:
  caf::actor target_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

detail::handler_ptr actor_handler(caf::actor target, std::chrono::milliseconds timeout) {
  return std::make_shared<actor_handler_impl>(std::move(target), timeout);
}

}  // namespace brook
