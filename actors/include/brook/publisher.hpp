#pragma once
/// @file
/// Publishers: declared outgoing channels (documented in AsyncAPI) and the
/// options of one publish.
///
/// @code
/// auto greetings = broker.publisher("greetings");
/// if (auto err = greetings.publish(greeting{"hi"}))        // waits for the broker
///   throw std::runtime_error(err.to_string());
/// broker.subscriber("in").publisher(greetings).handle(...); // results go there too
/// @endcode
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <brook/codec.hpp>
#include <brook/deferred.hpp>
#include <brook/detail/ids.hpp>
#include <brook/errc.hpp>
#include <brook/headers.hpp>
#include <brook/transport.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <vector>

namespace brook {

/// Options of a single publish.
struct publish_options {
  brook::headers headers;      ///< user headers, applied last
  std::string correlation_id;  ///< empty = a new UUID
  std::string reply_to;
  std::string message_id;
  /// The driver's typed publish target, e.g. `brook::redis::list_out{}`; empty
  /// = the broker's default kind. Its own name, if any, is not read: the
  /// channel is the one passed to `publish`.
  driver_spec driver;
};

/// Options of a request (publish + wait for the reply).
struct request_options {
  std::chrono::milliseconds timeout{5000};
  brook::headers headers;
  driver_spec driver;  ///< as in `publish_options::driver`
};

/// A failed request: timeout, publish failure or a reply of the wrong shape.
class request_error : public std::runtime_error {
public:
  request_error(errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  errc code() const noexcept { return code_; }

private:
  errc code_;
};

namespace detail {
class broker_core;

struct publisher_decl {
  std::string address;
  driver_spec driver;  ///< the driver's typed target, e.g. `redis::stream_out`
  std::string title, description;
  bool include_in_schema = true;
  boost::json::object bindings;
  /// Schemas of what is published here (handler results, declared types).
  std::vector<std::function<boost::json::value(brook::codec::schema_registry&)>> schemas;
  std::shared_ptr<broker_core> core;  ///< set when attached to a broker
};

/// Builds the wire message: encodes, fills correlation id and content type.
template <class T>
outgoing make_outgoing(std::string channel, const T& body, publish_options o) {
  auto enc = brook::codec::encode_body(body);
  outgoing m;
  m.channel = std::move(channel);
  m.body = std::move(enc.data);
  m.content_type = std::string{enc.content_type};
  m.headers = std::move(o.headers);
  m.correlation_id = std::move(o.correlation_id);
  m.reply_to = std::move(o.reply_to);
  m.message_id = std::move(o.message_id);
  m.driver = std::move(o.driver);
  return m;
}

/// Sends through the broker core; defined in the runtime.
error_info publish_now(const std::shared_ptr<broker_core>& core, outgoing m);
void publish_later(const std::shared_ptr<broker_core>& core, outgoing m, publish_callback done);
/// Sends every message; `done` runs once, after the last answer, with the first failure.
void publish_batch_later(const std::shared_ptr<broker_core>& core, std::vector<outgoing> ms,
                         publish_callback done);
error_info publish_batch_now(const std::shared_ptr<broker_core>& core, std::vector<outgoing> ms);
}  // namespace detail

/// A declared outgoing channel. Cheap to copy.
class publisher {
public:
  explicit publisher(std::shared_ptr<detail::publisher_decl> d) : decl_(std::move(d)) {}

  /// Publishes and waits until the broker accepted it; returns the failure.
  template <class T>
  error_info publish(const T& body, publish_options o = {}) const {
    return detail::publish_now(decl_->core, make(body, std::move(o)));
  }
  /// Publishes without waiting; `done` runs once on a driver or actor thread.
  template <class T>
  void publish_async(const T& body, publish_callback done, publish_options o = {}) const {
    detail::publish_later(decl_->core, make(body, std::move(o)), std::move(done));
  }
  /// Publishes without waiting; the broker's answer (ok or the failure) arrives
  /// in the deferred: `auto err = co_await out.publish_async(x);` in a `brook::task`.
  template <class T>
  deferred<error_info> publish_async(const T& body) const {
    // Not a default argument: GCC 12 destroys a default argument's temporary twice
    // when the call is the operand of co_await.
    return publish_async(body, publish_options{});
  }
  template <class T>
  deferred<error_info> publish_async(const T& body, publish_options o) const {
    promise<error_info> p;
    auto result = p.get_deferred();
    detail::publish_later(decl_->core, make(body, std::move(o)),
                          [p](const error_info& e) mutable { p.set_value(e); });
    return result;
  }
  /// Publishes each element of `bodies` as a message of its own, in order, under one
  /// correlation id (the options' or a new one), as FastStream's `publish_batch` does,
  /// and waits until the broker accepted every one. Returns the first failure; the
  /// other messages were still sent (a batch is not a transaction). On Kafka the records
  /// go out in the producer's batches, to the options' partition when one is given.
  /// @code
  /// std::vector<order> orders = load();
  /// if (auto err = out.publish_batch(orders, {.driver = brook::kafka::topic_out{.partition = 0}}))
  ///   log(err.to_string());
  /// @endcode
  template <std::ranges::input_range R>
  error_info publish_batch(const R& bodies, publish_options o = {}) const {
    return detail::publish_batch_now(decl_->core, make_batch(bodies, std::move(o)));
  }
  /// The same without waiting: `done` runs once, after the broker answered for every
  /// message, with the first failure (or ok).
  template <std::ranges::input_range R>
  void publish_batch_async(const R& bodies, publish_callback done, publish_options o = {}) const {
    detail::publish_batch_later(decl_->core, make_batch(bodies, std::move(o)), std::move(done));
  }
  /// Documents `T` as a payload of this channel in AsyncAPI.
  template <class T>
  publisher& of() {
    decl_->schemas.push_back([](brook::codec::schema_registry& r) { return r.schema_of<T>(); });
    return *this;
  }
  publisher& title(std::string t) {
    decl_->title = std::move(t);
    return *this;
  }
  publisher& description(std::string d) {
    decl_->description = std::move(d);
    return *this;
  }
  publisher& include_in_schema(bool b) {
    decl_->include_in_schema = b;
    return *this;
  }
  const std::string& address() const noexcept { return decl_->address; }
  const std::shared_ptr<detail::publisher_decl>& decl() const noexcept { return decl_; }

private:
  template <class T>
  outgoing make(const T& body, publish_options o) const {
    auto m = detail::make_outgoing(decl_->address, body, std::move(o));
    if (m.driver.empty())  // a publish's own target wins over the declared one
      m.driver = decl_->driver;
    return m;
  }
  template <class R>
  std::vector<outgoing> make_batch(const R& bodies, publish_options o) const {
    if (o.correlation_id.empty())
      o.correlation_id = detail::new_uuid();
    std::vector<outgoing> ms;
    if constexpr (std::ranges::sized_range<R>)
      ms.reserve(std::ranges::size(bodies));
    for (const auto& body : bodies)
      ms.push_back(make(body, o));
    return ms;
  }
  std::shared_ptr<detail::publisher_decl> decl_;
};

}  // namespace brook
