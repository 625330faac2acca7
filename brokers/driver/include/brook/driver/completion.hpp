#pragma once
/// @file
/// "Each callback exactly once", by construction: a publish's completion that
/// runs on the first call and ignores later ones, and, if it is destroyed without
/// having run (a queue cleared on close, a reply that can no longer come), runs
/// then with `errc::closed`. A driver that keeps its completions in these cannot
/// leave a publisher waiting forever, whatever path drops the command.
///
/// @code
/// struct command { std::string resp; brook::driver::completion done; };
/// command c{resp, brook::driver::completion{std::move(cb)}};
/// c.done({});                 // ok: runs cb once
/// c.done({errc::closed, ""}); // ignored
/// @endcode
/// @warning Moving transfers the duty; a moved-from completion does nothing.
#include <brook/errc.hpp>
#include <functional>
#include <utility>

namespace brook::driver {

class completion {
public:
  using fn = std::function<void(const error_info&)>;

  completion() = default;
  /// `on_drop` (a string literal: this is on every publish's path) is the message a
  /// never-called completion reports.
  explicit completion(fn f, const char* on_drop = "the driver closed before the broker answered")
      : f_(std::move(f)), on_drop_(on_drop) {}
  completion(completion&& o) noexcept : f_(std::exchange(o.f_, {})), on_drop_(o.on_drop_) {}
  completion& operator=(completion&& o) noexcept {
    if (this != &o) {
      drop();
      f_ = std::exchange(o.f_, {});
      on_drop_ = o.on_drop_;
    }
    return *this;
  }
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;
  ~completion() { drop(); }

  /// Runs the callback with `e` the first time; later calls do nothing.
  void operator()(const error_info& e) {
    if (auto f = std::exchange(f_, {}))
      f(e);
  }
  /// Whether it has yet to run.
  explicit operator bool() const noexcept { return static_cast<bool>(f_); }

private:
  void drop() {
    if (auto f = std::exchange(f_, {}))
      f(error_info{errc::closed, on_drop_});
  }
  fn f_;
  const char* on_drop_ = "";
};

}  // namespace brook::driver
