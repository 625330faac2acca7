#pragma once
/// @file
/// Results that arrive later: a handler returns `brook::deferred<T>` and
/// completes the matching `brook::promise<T>` from any thread (an async DB
/// client's callback, a thread pool, another actor).
///
/// @code
/// .handle([&db](const order& o) -> brook::deferred<receipt> {
///   brook::promise<receipt> p;
///   auto result = p.get_deferred();
///   db.insert_async(o, [p](bool ok) mutable {
///     if (ok) p.set_value(receipt{"stored"});
///     else p.set_exception(std::make_exception_ptr(std::runtime_error{"db down"}));
///   });
///   return result;
/// });
/// @endcode
/// While a result is pending, the handler actor keeps serving other messages;
/// the subscriber's credit window still bounds how many are in flight.
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace brook {

/// The result of a `brook::deferred` whose every `promise` copy was destroyed
/// without a value or an exception: the message fails (and its credit returns).
struct broken_promise : std::logic_error {
  broken_promise()
      : std::logic_error(
            "the promise of a deferred result was destroyed without set_value or "
            "set_exception; complete it on every path") {}
};

namespace detail {
template <class T>
struct deferred_state {
  using value_type = std::conditional_t<std::is_void_v<T>, std::monostate*, T>;
  std::mutex mtx;
  std::optional<value_type> value;
  std::exception_ptr error;
  std::function<void(std::optional<value_type>&&, std::exception_ptr)> callback;
  bool fired = false;

  void fire(std::unique_lock<std::mutex>& lock) {
    if (fired || !callback || (!value && !error))
      return;
    fired = true;
    auto cb = std::move(callback);
    auto v = std::move(value);
    auto e = error;
    lock.unlock();
    cb(std::move(v), e);
  }
};

/// Shared by a promise's copies; the last one gone completes an unfinished
/// state with `broken_promise`.
template <class T>
struct promise_owner {
  std::shared_ptr<deferred_state<T>> st = std::make_shared<deferred_state<T>>();
  promise_owner() = default;
  promise_owner(const promise_owner&) = delete;
  promise_owner& operator=(const promise_owner&) = delete;
  ~promise_owner() {
    std::unique_lock lock{st->mtx};
    if (st->value || st->error)
      return;
    st->error = std::make_exception_ptr(broken_promise{});
    st->fire(lock);
  }
};
}  // namespace detail

template <class T>
class deferred;

/// The producing side. Copyable; the first completion wins.
template <class T>
class promise {
public:
  using value_type = typename detail::deferred_state<T>::value_type;
  promise() : owner_(std::make_shared<detail::promise_owner<T>>()), st_(owner_->st) {}

  template <class U = T>
  requires(!std::is_void_v<U>) void set_value(U value) {
    std::unique_lock lock{st_->mtx};
    if (st_->value || st_->error)
      return;
    st_->value.emplace(std::move(value));
    st_->fire(lock);
  }
  template <class U = T>
  requires std::is_void_v<U>
  void set_value() {
    std::unique_lock lock{st_->mtx};
    if (st_->value || st_->error)
      return;
    st_->value.emplace(nullptr);
    st_->fire(lock);
  }
  void set_exception(std::exception_ptr e) {
    std::unique_lock lock{st_->mtx};
    if (st_->value || st_->error)
      return;
    st_->error = std::move(e);
    st_->fire(lock);
  }
  deferred<T> get_deferred() const { return deferred<T>{st_}; }

private:
  std::shared_ptr<detail::promise_owner<T>> owner_;
  std::shared_ptr<detail::deferred_state<T>> st_;
};

/// The consuming side, returned from a handler.
template <class T>
class deferred {
public:
  using value_type = typename detail::deferred_state<T>::value_type;
  explicit deferred(std::shared_ptr<detail::deferred_state<T>> st) : st_(std::move(st)) {}

  /// Registers the single continuation; runs it at once when already complete.
  void on_complete(std::function<void(std::optional<value_type>&&, std::exception_ptr)> f) {
    std::unique_lock lock{st_->mtx};
    st_->callback = std::move(f);
    st_->fire(lock);
  }

private:
  std::shared_ptr<detail::deferred_state<T>> st_;
};

/// A deferred that is already complete (for code paths that finish at once).
template <class T>
deferred<std::decay_t<T>> make_ready(T&& value) {
  promise<std::decay_t<T>> p;
  p.set_value(std::forward<T>(value));
  return p.get_deferred();
}

}  // namespace brook
