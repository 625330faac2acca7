#pragma once
/// @file
/// Exception mapping registered per exception type (FastStream's
/// ExceptionMiddleware). The first registration whose type matches wins; an
/// exception no registration matches goes through the ack policy.
///
/// @code
/// auto errors = std::make_shared<brook::middleware::exceptions>();
/// errors->on<db_timeout>([](const db_timeout&, brook::message&) { return brook::ack_action::nack;
/// }); errors->on<bad_order>([&dlq](const bad_order& e, brook::message& m) {
///   dlq.publish(std::string{m.body()});                 // park it elsewhere
///   return brook::ack_action::ack;
/// });
/// errors->on<std::exception>([](const std::exception& e, brook::message&) { audit(e); });  //
/// observe only app.middleware(errors);
/// @endcode
#include <brook/middleware.hpp>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace brook::middleware {

class exceptions final : public base {
public:
  /// `f(const E&, message&)` returns an `ack_action` (or void = only observe).
  template <class E, class F>
  exceptions& on(F f) {
    handlers_.push_back([f = std::move(f)](message& m, const std::exception_ptr& ep)
                            -> std::pair<bool, std::optional<ack_action>> {
      try {
        std::rethrow_exception(ep);
      } catch (const E& e) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const E&, message&>>) {
          f(e, m);
          return {true, std::nullopt};
        } else {
          return {true, f(e, m)};
        }
      } catch (...) {
        return {false, std::nullopt};
      }
    });
    return *this;
  }

  std::optional<ack_action> on_exception(message& m, const std::exception_ptr& ep) override;

private:
  std::vector<std::function<std::pair<bool, std::optional<ack_action>>(message&,
                                                                       const std::exception_ptr&)>>
      handlers_;
};

}  // namespace brook::middleware
