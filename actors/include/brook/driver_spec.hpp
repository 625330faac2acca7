#pragma once
/// @file
/// A driver's own typed declaration, carried through the seam unread.
///
/// Every driver defines its subscription kinds and publish targets as plain
/// structs in `brokers/<b>/include/brook/<b>/` (`brook::redis::stream`,
/// `brook::redis::list_out`, ...). A struct qualifies when it names its
/// protocol and kind; it may also say what its subscriptions can do on the
/// real broker (the test broker copies that) and write its AsyncAPI bindings:
///
/// @code
/// struct queue {                                     // a driver's spec type
///   static constexpr std::string_view protocol = "mine";
///   static constexpr std::string_view kind = "queue";
///   static constexpr bool competing = true;          // consumers share the messages
///   std::string name;
///   int prefetch = 10;
///   brook::capabilities capabilities() const { return {.acks = brook::ack_mode::per_message}; }
///   void bindings(std::string_view address, boost::json::object& out) const;
/// };
/// brook::subscription_spec s = brook::subscription_spec::of(queue{.name = "jobs", .prefetch = 1});
/// if (auto* q = s.driver.get<queue>()) use(q->prefetch);      // in the driver
/// @endcode
///
/// Options are members, so a typo is a compile error, and the driver reads
/// the type it defined instead of parsing strings.
#include <brook/capabilities.hpp>
#include <memory>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace boost::json {
class object;
}

namespace brook {

/// A type that can travel as a `driver_spec`.
template <class T>
concept spec_type = std::is_copy_constructible_v<T> && requires {
  { T::protocol } -> std::convertible_to<std::string_view>;
  { T::kind } -> std::convertible_to<std::string_view>;
};

/// Holds one driver's typed declaration (or nothing: the transport's default kind).
/// Cheap to copy (the value is shared and immutable).
class driver_spec {
public:
  driver_spec() = default;
  template <spec_type T>
  requires(!std::is_same_v<std::remove_cvref_t<T>, driver_spec>)
      driver_spec(T value)  // NOLINT(google-explicit-constructor): a spec converts like a value
      : value_(std::make_shared<const T>(std::move(value))), ops_(&ops_of<T>) {}

  /// No typed declaration: the transport's default kind.
  bool empty() const noexcept { return ops_ == nullptr; }
  /// The driver that understands it (`redis`); empty when `empty()`.
  std::string_view protocol() const noexcept { return ops_ ? ops_->protocol : std::string_view{}; }
  /// The kind of subscription or publish target (`stream`, `list`); empty when `empty()`.
  std::string_view kind() const noexcept { return ops_ ? ops_->kind : std::string_view{}; }
  /// Consumers of one address share its messages (a queue or list), rather than each
  /// getting every message.
  bool competing() const noexcept { return ops_ && ops_->competing; }
  /// The value when it is a `T`, else null.
  template <class T>
  const T* get() const noexcept {
    return ops_ && *ops_->type == typeid(T) ? static_cast<const T*>(value_.get()) : nullptr;
  }
  /// Writes what a subscription of this spec can do on its real broker to
  /// `out`; false (and `out` untouched) when the type does not say.
  bool capabilities(brook::capabilities& out) const {
    return ops_ && ops_->caps && (ops_->caps(value_.get(), out), true);
  }
  /// Adds the type's AsyncAPI bindings for `address` to `out` (nothing when it has none).
  void bindings(std::string_view address, boost::json::object& out) const {
    if (ops_ && ops_->bindings)
      ops_->bindings(value_.get(), address, out);
  }

private:
  struct ops {
    const std::type_info* type;
    std::string_view protocol, kind;
    bool competing;
    void (*caps)(const void*, brook::capabilities&);
    void (*bindings)(const void*, std::string_view, boost::json::object&);
  };

  template <class T>
  static constexpr bool competing_of() {
    if constexpr (requires { T::competing; })
      return T::competing;
    else
      return false;
  }

  template <class T>
  static constexpr ops ops_of{
      &typeid(T),
      T::protocol,
      T::kind,
      competing_of<T>(),
      [] {
        if constexpr (requires(const T& t) {
                        { t.capabilities() } -> std::same_as<brook::capabilities>;
                      })
          return +[](const void* v, brook::capabilities& out) {
            out = static_cast<const T*>(v)->capabilities();
          };
        else
          return static_cast<void (*)(const void*, brook::capabilities&)>(nullptr);
      }(),
      [] {
        if constexpr (requires(const T& t, boost::json::object& o) {
                        t.bindings(std::string_view{}, o);
                      })
          return +[](const void* v, std::string_view a, boost::json::object& o) {
            static_cast<const T*>(v)->bindings(a, o);
          };
        else
          return static_cast<void (*)(const void*, std::string_view, boost::json::object&)>(
              nullptr);
      }()};

  std::shared_ptr<const void> value_;
  const ops* ops_ = nullptr;
};

}  // namespace brook
