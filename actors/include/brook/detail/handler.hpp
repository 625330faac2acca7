#pragma once
// Type-erasure of user handlers: parameter injection by type (checked at
// compile time), body decoding, result encoding. Used by subscriber.hpp.
#include <boost/core/type_name.hpp>
#include <boost/json/value.hpp>
#include <brook/codec.hpp>
#include <brook/deferred.hpp>
#include <brook/inject.hpp>
#include <brook/message.hpp>
#include <brook/response.hpp>
#include <brook/task.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <variant>
#include <vector>

namespace brook::detail {

/// An encoded handler result.
struct reply {
  bool has_body = false;  ///< false for void / nullopt results
  std::string data;
  std::string content_type;
  brook::headers headers;
  std::string correlation_id;
};

/// What one invocation produced: a reply or an exception.
struct call_result {
  reply value;
  std::exception_ptr error;
};

using completion = std::function<void(call_result)>;

/// Per-invocation inputs from the subscriber.
struct invoke_env {
  const codec_options* codec = nullptr;
  const dependency_registry* deps = nullptr;
  /// Set by the test broker: receives the decoded body as JSON for each call.
  std::function<void(boost::json::value)> record;
};

/// What a handler declares, for start-up checks and AsyncAPI.
struct handler_info {
  std::vector<std::pair<std::type_index, std::string>> deps;  ///< dep<T> it needs
  std::vector<std::string> header_names;
  std::function<boost::json::value(brook::codec::schema_registry&)> body_schema;
  std::function<boost::json::value(brook::codec::schema_registry&)> result_schema;
  /// Whether the body can take a batch (an array): a `std::vector<T>`, a
  /// `boost::json::value`, or no body at all.
  bool takes_batch = true;
};

class handler_base {
public:
  virtual ~handler_base() = default;
  /// Runs the handler. Returns the result, or nullopt when it completes later
  /// through `done` (deferred results; `done` may run on any thread).
  virtual std::optional<call_result> invoke(message& msg, const invoke_env& env,
                                            completion done) = 0;
  const handler_info& info() const noexcept { return info_; }

protected:
  handler_info info_;
};

using handler_ptr = std::shared_ptr<handler_base>;

// -- callable traits ---------------------------------------------------------

template <class F>
struct callable_traits : callable_traits<decltype(&std::decay_t<F>::operator())> {};
template <class R, class... Ts>
struct callable_traits<R (*)(Ts...)> {
  using result = R;
  using args = std::tuple<Ts...>;
};
template <class R, class... Ts>
struct callable_traits<R(Ts...)> : callable_traits<R (*)(Ts...)> {};
template <class C, class R, class... Ts>
struct callable_traits<R (C::*)(Ts...) const> : callable_traits<R (*)(Ts...)> {};
template <class C, class R, class... Ts>
struct callable_traits<R (C::*)(Ts...)> : callable_traits<R (*)(Ts...)> {};
template <class C, class R, class... Ts>
struct callable_traits<R (C::*)(Ts...) const noexcept> : callable_traits<R (*)(Ts...)> {};
template <class C, class R, class... Ts>
struct callable_traits<R (C::*)(Ts...) noexcept> : callable_traits<R (*)(Ts...)> {};

// -- parameter classification -------------------------------------------------

template <class T>
struct is_header : std::false_type {};
template <fixed_string N, class T>
struct is_header<header<N, T>> : std::true_type {};
template <class T>
struct is_path : std::false_type {};
template <fixed_string N, class T>
struct is_path<path<N, T>> : std::true_type {};
template <class T>
struct is_dep : std::false_type {};
template <class T>
struct is_dep<dep<T>> : std::true_type {
  using type = T;
};

enum class arg_kind { body, message, logger, context, header, path, dep, unsupported };

template <class P>
constexpr arg_kind classify() {
  using D = std::remove_cvref_t<P>;
  if constexpr (std::is_same_v<D, message>)
    return arg_kind::message;
  else if constexpr (std::is_same_v<D, logger>)
    return arg_kind::logger;
  else if constexpr (std::is_same_v<D, context>)
    return arg_kind::context;
  else if constexpr (is_header<D>::value)
    return arg_kind::header;
  else if constexpr (is_path<D>::value)
    return arg_kind::path;
  else if constexpr (is_dep<D>::value)
    return arg_kind::dep;
  else if constexpr (brook::codec::is_body_v<D>)
    return arg_kind::body;
  else
    return arg_kind::unsupported;
}

template <class Tuple>
struct body_of;
template <class... Ts>
struct body_of<std::tuple<Ts...>> {
  static constexpr std::size_t count = ((classify<Ts>() == arg_kind::body ? 1 : 0) + ... + 0);
  static constexpr bool all_supported = ((classify<Ts>() != arg_kind::unsupported) && ...);
  template <class T, class... Rest>
  static auto pick(std::tuple<T, Rest...>*) {
    if constexpr (classify<T>() == arg_kind::body)
      return static_cast<std::remove_cvref_t<T>*>(nullptr);
    else
      return pick(static_cast<std::tuple<Rest...>*>(nullptr));
  }
  static auto pick(std::tuple<>*) { return static_cast<void*>(nullptr); }
  using type = std::remove_pointer_t<decltype(pick(static_cast<std::tuple<Ts...>*>(nullptr)))>;
};

template <class T>
struct is_deferred : std::false_type {};
template <class T>
struct is_deferred<deferred<T>> : std::true_type {
  using type = T;
};
template <class T>
struct is_deferred<task<T>> : std::true_type {  // a coroutine: completes like a deferred
  using type = T;
};
template <class T>
struct is_response : std::false_type {};
template <class T>
struct is_response<response<T>> : std::true_type {
  using type = T;
};

/// The type a result ultimately publishes (unwraps deferred/response/optional).
template <class R>
struct payload_of {
  using type = R;
};
template <class T>
struct payload_of<deferred<T>> : payload_of<T> {};
template <class T>
struct payload_of<task<T>> : payload_of<T> {};
template <class T>
struct payload_of<response<T>> : payload_of<T> {};
template <class T>
struct payload_of<std::optional<T>> : payload_of<T> {};

template <class T>
reply encode_result(T&& x) {
  using D = std::remove_cvref_t<T>;
  reply r;
  if constexpr (std::is_void_v<D> || std::is_same_v<D, std::monostate*>) {
    return r;
  } else if constexpr (is_response<D>::value) {
    r = encode_result(std::move(x.body));
    for (auto& kv : x.headers)
      r.headers.push_back(kv);
    if (!x.correlation_id.empty())
      r.correlation_id = std::move(x.correlation_id);
    return r;
  } else if constexpr (is_std_optional<D>::value) {
    if (x)
      return encode_result(std::move(*x));
    return r;
  } else {
    static_assert(brook::codec::is_body_v<D>,
                  "brook: a handler must return void, a body type (described struct, "
                  "std::string, brook::bytes, boost::json::value, number), "
                  "std::optional<T>, brook::response<T>, brook::deferred<T> or brook::task<T>");
    auto enc = brook::codec::encode_body(x);
    r.has_body = true;
    r.data = std::move(enc.data);
    r.content_type = std::string{enc.content_type};
    return r;
  }
}

template <class T>
struct unsupported_parameter : std::false_type {};

/// Marks a thread's cached body free again when a call ends.
struct body_lease {
  bool* busy = nullptr;
  body_lease() = default;
  body_lease(const body_lease&) = delete;
  body_lease& operator=(const body_lease&) = delete;
  ~body_lease() {
    if (busy)
      *busy = false;
  }
};

template <class F>
class typed_handler final : public handler_base {
public:
  using traits = callable_traits<F>;
  using args = typename traits::args;
  using result = typename traits::result;
  using body_t = typename body_of<args>::type;
  static constexpr bool has_body = !std::is_void_v<body_t>;

  static_assert(body_of<args>::all_supported,
                "brook: a handler parameter has a type brook cannot inject. Use one of: a body "
                "type (Boost.Describe struct, std::string, brook::bytes, boost::json::value, "
                "number, vector/optional/map of those), brook::message&, brook::logger&, "
                "brook::context&, brook::header<\"name\", T>, brook::path<\"name\", T> or "
                "brook::dep<T>. See the instantiation note below for the offending type.");
  static_assert(body_of<args>::count <= 1,
                "brook: a handler takes at most one body parameter; wrap several values in "
                "one described struct");

  explicit typed_handler(F f) : fn_(std::move(f)) {
    describe(static_cast<args*>(nullptr));
    if constexpr (has_body) {
      info_.body_schema = [](brook::codec::schema_registry& r) { return r.schema_of<body_t>(); };
      info_.takes_batch = brook::detail::codec::is_vector<body_t>::value ||
                          std::is_same_v<body_t, boost::json::value>;
    }
    using payload = typename payload_of<result>::type;
    if constexpr (!std::is_void_v<payload> && brook::codec::is_body_v<payload>) {
      info_.result_schema = [](brook::codec::schema_registry& r) { return r.schema_of<payload>(); };
    }
  }

  std::optional<call_result> invoke(message& msg, const invoke_env& env, completion done) override {
    try {
      // The body decodes into a per-thread object that keeps its strings' and
      // vectors' storage between messages (decoding overwrites every member);
      // a nested call on the same thread gets a fresh one.
      std::conditional_t<has_body, body_t*, std::nullptr_t> body{};
      std::conditional_t<has_body, std::optional<body_t>, std::nullptr_t> own{};
      body_lease lease;
      if constexpr (has_body) {
        thread_local body_t cached{};
        thread_local bool busy = false;
        if (busy) {
          body = &own.emplace();
        } else {
          body = &cached;
          lease.busy = &busy;
          busy = true;
        }
        if (auto err = brook::codec::decode_body(msg.body(), msg.content_type(), *body, *env.codec))
          throw decode_failure{std::string{msg.channel()}, std::move(*err)};
        if (env.record)
          env.record(brook::codec::to_json(*body));
      } else if (env.record) {
        env.record(boost::json::string{msg.body()});
      }
      dependency_registry::scope scope;
      auto call = [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
        return fn_(inject<std::tuple_element_t<I, args>>(msg, env, scope, body)...);
      };
      constexpr auto seq = std::make_index_sequence<std::tuple_size_v<args>>{};
      if constexpr (std::is_void_v<result>) {
        call(seq);
        return call_result{};
      } else if constexpr (is_deferred<result>::value) {
        result d = call(seq);
        // Scoped dependencies live until the deferred result completes.
        std::shared_ptr<dependency_registry::scope> keep;
        if (!scope.values.empty())
          keep = std::make_shared<dependency_registry::scope>(std::move(scope));
        d.on_complete([done = std::move(done), keep](auto&& value, std::exception_ptr e) {
          if (e) {
            done(call_result{{}, e});
            return;
          }
          try {
            done(call_result{encode_result(std::move(*value)), nullptr});
          } catch (...) {
            done(call_result{{}, std::current_exception()});
          }
        });
        return std::nullopt;
      } else {
        return call_result{encode_result(call(seq)), nullptr};
      }
    } catch (...) {
      return call_result{{}, std::current_exception()};
    }
  }

private:
  template <class... Ts>
  void describe(std::tuple<Ts...>*) {
    (describe_one<Ts>(), ...);
  }
  template <class P>
  void describe_one() {
    using D = std::remove_cvref_t<P>;
    if constexpr (is_dep<D>::value)
      info_.deps.emplace_back(typeid(typename is_dep<D>::type),
                              std::string{boost::core::type_name<typename is_dep<D>::type>()});
    else if constexpr (is_header<D>::value)
      info_.header_names.emplace_back(D::name());
  }

  template <class P, class Body>
  static decltype(auto) inject(message& msg, const invoke_env& env,
                               dependency_registry::scope& scope, Body& body) {
    using D = std::remove_cvref_t<P>;
    constexpr auto kind = classify<P>();
    if constexpr (kind == arg_kind::body) {
      if constexpr (std::is_rvalue_reference_v<P> || !std::is_reference_v<P>)
        return std::move(*body);
      else
        return (*body);
    } else if constexpr (kind == arg_kind::message) {
      return (msg);
    } else if constexpr (kind == arg_kind::logger) {
      return (msg.logger());
    } else if constexpr (kind == arg_kind::context) {
      return (msg.context());
    } else if constexpr (kind == arg_kind::header) {
      D h;
      try {
        detail::load_named<decltype(h.value)>(h, msg.header(D::name()), "header", D::name());
      } catch (const std::invalid_argument& e) {
        throw missing_input{std::string{msg.channel()} + ": " + e.what()};
      }
      return h;
    } else if constexpr (kind == arg_kind::path) {
      D p;
      try {
        detail::load_named<decltype(p.value)>(p, msg.path_param(D::name()), "path parameter",
                                              D::name());
      } catch (const std::invalid_argument& e) {
        throw missing_input{std::string{msg.channel()} + ": " + e.what()};
      }
      return p;
    } else {
      static_assert(kind == arg_kind::dep);
      using T = typename is_dep<D>::type;
      return D{env.deps->template resolve<T>(msg, scope)};
    }
  }

  F fn_;
};

template <class F>
handler_ptr make_handler(F f) {
  return std::make_shared<typed_handler<std::decay_t<F>>>(std::move(f));
}

}  // namespace brook::detail
