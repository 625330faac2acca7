#pragma once
/// @file
/// Handler parameters that are resolved by type: typed headers, address path
/// parameters and user dependencies.
///
/// @code
/// app.provide<user_repo>(std::make_shared<user_repo>());                 // singleton
/// app.provide_scoped<unit_of_work>([](brook::message&) { return unit_of_work{}; });  // per
/// message broker.subscriber("orders.{region}").handle(
///   [](const order& o, brook::path<"region"> region, brook::header<"x-retry", int> retry,
///      brook::dep<user_repo> users) { users->save(o, *region, *retry); });
/// @endcode
#include <algorithm>
#include <any>
#include <brook/codec.hpp>
#include <charconv>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>

namespace brook {

class message;

/// A string usable as a template argument (`brook::header<"x-tenant">`).
template <std::size_t N>
struct fixed_string {
  char data[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, data); }
  constexpr std::string_view view() const { return {data, N - 1}; }
};

namespace detail {
template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

/// Converts header / path text to `T`: strings as is, numbers with from_chars,
/// everything else as JSON. Returns an error text or empty.
template <class T>
std::string convert_text(std::string_view text, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out.assign(text);
    return {};
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || p != text.data() + text.size())
      return "expected an integer, got '" + std::string{text} + "'";
    return {};
  } else {
    if (auto err = brook::codec::parse(text, out))
      return err->to_string();
    return {};
  }
}

template <class T, class Self>
void load_named(Self& self, const std::string* text, std::string_view what, std::string_view name) {
  if constexpr (is_std_optional<T>::value) {
    if (!text)
      return;
    typename T::value_type v{};
    if (auto err = convert_text(*text, v); !err.empty())
      throw std::invalid_argument(std::string{what} + " '" + std::string{name} + "': " + err);
    self.value = std::move(v);
  } else {
    if (!text)
      throw std::invalid_argument(std::string{what} + " '" + std::string{name} +
                                  "' is required but missing");
    if (auto err = convert_text(*text, self.value); !err.empty())
      throw std::invalid_argument(std::string{what} + " '" + std::string{name} + "': " + err);
  }
}
}  // namespace detail

/// A typed header; `T` may be `std::optional<U>` when the header is optional.
template <fixed_string Name, class T = std::string>
struct header {
  T value{};
  static constexpr std::string_view name() { return Name.view(); }
  const T& operator*() const noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
};

/// A path parameter captured from a subscriber address such as `orders.{region}`.
template <fixed_string Name, class T = std::string>
struct path {
  T value{};
  static constexpr std::string_view name() { return Name.view(); }
  const T& operator*() const noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
};

/// A user dependency provided on the app, broker or router (FastStream's
/// `Depends`). Behaves like a non-owning pointer.
template <class T>
class dep {
public:
  explicit dep(T& x) noexcept : ptr_(&x) {}
  T& operator*() const noexcept { return *ptr_; }
  T* operator->() const noexcept { return ptr_; }
  T& get() const noexcept { return *ptr_; }

private:
  T* ptr_;
};

/// Providers of user dependencies, looked up by type. A registry may have a
/// parent (router -> broker -> app) consulted when it has no provider itself.
class dependency_registry {
public:
  using factory = std::function<std::shared_ptr<void>(message&)>;

  template <class T>
  void provide(std::shared_ptr<T> instance) {
    providers_[typeid(T)] = provider{std::move(instance), nullptr};
  }
  /// `f(message&)` returns a `T` (or `std::shared_ptr<T>`) once per message.
  template <class T, class F>
  void provide_scoped(F f) {
    providers_[typeid(T)] =
        provider{nullptr, [f = std::move(f)](message& m) -> std::shared_ptr<void> {
                   using R = std::invoke_result_t<F&, message&>;
                   if constexpr (std::is_same_v<R, std::shared_ptr<T>>)
                     return f(m);
                   else
                     return std::make_shared<T>(f(m));
                 }};
  }
  void set_parent(std::shared_ptr<const dependency_registry> p) noexcept { parent_ = std::move(p); }
  bool has(std::type_index t) const noexcept {
    return providers_.count(t) || (parent_ && parent_->has(t));
  }

  /// Per-message cache for scoped dependencies.
  struct scope {
    std::map<std::type_index, std::shared_ptr<void>> values;
  };

  template <class T>
  T& resolve(message& m, scope& s) const {
    if (auto i = s.values.find(typeid(T)); i != s.values.end())
      return *static_cast<T*>(i->second.get());
    for (auto* r = this; r; r = r->parent_.get()) {
      auto i = r->providers_.find(typeid(T));
      if (i == r->providers_.end())
        continue;
      if (i->second.instance)
        return *static_cast<T*>(i->second.instance.get());
      auto v = i->second.make(m);
      auto* raw = static_cast<T*>(v.get());
      s.values.emplace(typeid(T), std::move(v));
      return *raw;
    }
    throw std::logic_error("no provider for a brook::dep<> parameter (checked at start-up)");
  }

private:
  struct provider {
    std::shared_ptr<void> instance;
    factory make;
  };
  std::map<std::type_index, provider> providers_;
  std::shared_ptr<const dependency_registry> parent_;
};

}  // namespace brook
