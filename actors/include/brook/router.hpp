#pragma once
/// @file
/// Routers group declarations under a prefix with shared middlewares and
/// dependencies, and are included into a broker (or another router).
///
/// @code
/// brook::router orders{"orders."};
/// orders.middleware(std::make_shared<audit>());
/// orders.provide<order_repo>(repo);
/// orders.subscriber("created").handle(on_created);     // consumes "orders.created"
/// brook::router v2{"v2."};
/// v2.include_router(orders);                            // "v2.orders.created"
/// broker.include_router(v2);
/// @endcode
/// Declare everything on a router before including it.
#include <brook/inject.hpp>
#include <brook/middleware.hpp>
#include <brook/publisher.hpp>
#include <brook/subscriber.hpp>
#include <memory>
#include <string>
#include <vector>

namespace brook {

class router {
public:
  explicit router(std::string prefix = {});
  virtual ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Subscribes to `prefix + address` with the broker's default kind.
  subscriber_builder subscriber(std::string address);
  /// Subscribes with a seam spec (the prefix is applied to its address).
  subscriber_builder subscriber(subscription_spec spec);
  /// Subscribes with a driver's typed declaration, e.g.
  /// `broker.subscriber(brook::redis::stream{.name = "orders", .group = "billing"})`.
  /// A declaration of another broker's driver fails at start, naming both.
  template <spec_type T>
  subscriber_builder subscriber(T typed) {
    return subscriber(subscription_spec::of(std::move(typed)));
  }
  /// Declares an outgoing channel `prefix + address`, of the broker's default
  /// kind or of a driver's typed target (`brook::redis::list_out{}`).
  brook::publisher publisher(std::string address, driver_spec driver = {});
  /// Declares the driver's typed target `typed.name`, e.g.
  /// `broker.publisher(brook::redis::stream_out{.name = "audit", .maxlen = 10'000})`.
  template <spec_type T>
  requires requires(const T& t) { std::string{t.name}; }
  brook::publisher publisher(T typed) {
    std::string address{typed.name};
    return publisher(std::move(address), driver_spec{std::move(typed)});
  }

  router& middleware(middleware_ptr m);
  template <class T>
  router& provide(std::shared_ptr<T> instance) {
    deps_->provide<T>(std::move(instance));
    return *this;
  }
  template <class T, class F>
  router& provide_scoped(F f) {
    deps_->provide_scoped<T>(std::move(f));
    return *this;
  }
  /// Moves `child`'s declarations here: addresses get this router's prefix,
  /// this router's middlewares wrap the child's, dependencies fall back to ours.
  router& include_router(router& child);

  const std::vector<std::shared_ptr<detail::subscriber_decl>>& subscriber_decls() const noexcept {
    return subs_;
  }
  const std::vector<std::shared_ptr<detail::publisher_decl>>& publisher_decls() const noexcept {
    return pubs_;
  }
  const std::vector<middleware_ptr>& middlewares() const noexcept { return mws_; }
  const std::shared_ptr<dependency_registry>& dependencies() const noexcept { return deps_; }

protected:
  /// Called for every declaration that lands here (brokers attach their core).
  virtual void adopt(detail::subscriber_decl&) {}
  virtual void adopt(detail::publisher_decl&) {}
  /// The subscription kind used by `subscriber(address)`.
  virtual subscription_spec default_spec(std::string address) const;
  std::shared_ptr<detail::publisher_decl> make_publisher_decl(std::string address);

  std::string prefix_;
  std::vector<std::shared_ptr<detail::subscriber_decl>> subs_;
  std::vector<std::shared_ptr<detail::publisher_decl>> pubs_;
  std::vector<middleware_ptr> mws_;
  std::shared_ptr<dependency_registry> deps_;
};

}  // namespace brook
