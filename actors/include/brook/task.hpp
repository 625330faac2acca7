#pragma once
/// @file
/// Coroutine handlers: a handler returns `brook::task<T>` and `co_await`s a
/// publish, a request, a timer or any `deferred<T>` without blocking a
/// scheduler thread.
///
/// @code
/// broker.subscriber("orders").publisher("receipts").handle(
///   [&](order o) -> brook::task<receipt> {
///     auto err = co_await audit.publish_async(o);              // waits for the broker
///     if (err) throw std::runtime_error(err.to_string());
///     auto price = co_await broker.request_async<quote>("prices", o.sku);
///     co_await brook::sleep_for(std::chrono::milliseconds{10});
///     co_return receipt{o.id, price.amount};
///   });
/// @endcode
///
/// The coroutine starts inside the handler call and resumes on its own handler
/// actor, so per-message state needs no locks; while it waits, the actor serves
/// other messages (the subscriber's credit window still bounds how many are in
/// flight). A task's result is handled like a `deferred<T>`: published,
/// settled by the ack policy, bounded by `.timeout(...)`. Outside a handler (a
/// test, a thread of your own) a task resumes on the thread that completed
/// what it awaited.
///
/// Take the body by value (`order o`): a coroutine outlives the handler call,
/// and references into the decoded message do not.
///
/// @warning GCC 12 (Debian 12's g++ 12.2) miscompiles a braced aggregate
/// temporary inside a `co_await` expression: `co_await p.publish_async(tick{1, "x"})`
/// destroys garbage after the resume and crashes. Name the value first
/// (`tick t{1, "x"}; co_await p.publish_async(t);`), or build it with a
/// function or constructor call; clang and later GCCs are not affected.
#include <atomic>
#include <brook/deferred.hpp>
#include <chrono>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace brook {

namespace detail {

/// Where a suspended handler coroutine resumes: its handler actor. The core
/// sets it around handler calls and resumptions; null elsewhere.
class resumer {
public:
  virtual ~resumer() = default;
  /// Resumes `h` on the owner's thread (any thread may call it).
  virtual void resume(std::coroutine_handle<> h) = 0;
  /// Resumes `h` there after `delay`.
  virtual void resume_after(std::chrono::milliseconds delay, std::coroutine_handle<> h) = 0;
};

/// The resumer of the handler running on this thread (null outside one).
std::shared_ptr<resumer>& current_resumer() noexcept;

template <class T>
struct task_promise_base {
  brook::promise<T> result;
  template <class U = T>
  void return_value(U&& value) {
    result.set_value(std::forward<U>(value));
  }
};
template <>
struct task_promise_base<void> {
  brook::promise<void> result;
  void return_void() { result.set_value(); }
};

}  // namespace detail

/// A coroutine handler's result: a `deferred<T>` whose value is `co_return`ed.
template <class T = void>
class task : public deferred<T> {
public:
  struct promise_type : detail::task_promise_base<T> {
    task get_return_object() { return task{this->result.get_deferred()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void unhandled_exception() { this->result.set_exception(std::current_exception()); }
  };

  explicit task(deferred<T> d) : deferred<T>(std::move(d)) {}
};

/// Awaits a `deferred<T>` (a publish, a request, a promise completed by anyone).
template <class T>
class deferred_awaiter {
public:
  using value_type = typename detail::deferred_state<T>::value_type;
  explicit deferred_awaiter(deferred<T> d) : d_(std::move(d)) {}

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    auto where = detail::current_resumer();
    d_.on_complete([this, h, where](std::optional<value_type>&& v, std::exception_ptr e) {
      value_ = std::move(v);
      error_ = e;
      if (state_.exchange(done) != suspended)
        return;  // completed before the coroutine suspended: it goes on inline
      if (where)
        where->resume(h);  // on the handler actor, after the current turn
      else
        h.resume();  // on the completing thread
    });
    // Already complete (a publish the driver finished at once): no suspension, no
    // resume message, the handler goes on in this turn.
    return state_.exchange(suspended) != done;
  }
  T await_resume() {
    if (error_)
      std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>)
      return std::move(*value_);
  }

private:
  static constexpr int waiting = 0, suspended = 1, done = 2;
  deferred<T> d_;
  std::optional<value_type> value_;
  std::exception_ptr error_;
  std::atomic<int> state_{waiting};
};

template <class T>
deferred_awaiter<T> operator co_await(deferred<T> d) {
  return deferred_awaiter<T>{std::move(d)};
}

/// `co_await brook::sleep_for(d)`: resumes after `d` without holding a thread
/// (outside a handler it sleeps on the current thread).
struct sleep_for {
  std::chrono::milliseconds delay;
  bool await_ready() const noexcept { return delay.count() <= 0; }
  bool await_suspend(std::coroutine_handle<> h) const {
    if (auto& where = detail::current_resumer()) {
      where->resume_after(delay, h);
      return true;
    }
    std::this_thread::sleep_for(delay);
    return false;
  }
  void await_resume() const noexcept {}
};

}  // namespace brook
