#pragma once
/// @file
/// Streaming decode: JSON text straight into C++ objects, no DOM between.
/// Internals of <brook/codec.hpp>; include that instead.
///
/// Every decodable type gets a static table of functions (`type_ops`); one
/// non-template driver (src/codec_sax.cpp) runs Boost.JSON's `basic_parser`
/// and calls into the tables, so the parser is compiled once, not per type.
/// Types the tables do not cover (`boost::json::value`, `std::vector<bool>`,
/// structs of more than 64 members) are marked unsupported. Whenever the
/// stream cannot finish (bad input, or such a type), `parse` decodes through
/// the DOM instead, which produces the error with its exact field path and
/// rules (syntax errors first, then the first error in declaration order).
/// Rejected messages are rare; the happy path pays for no path bookkeeping.
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace brook::detail::codec::sax {

/// One JSON scalar event.
struct scalar {
  json::kind kind = json::kind::null;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  std::string_view s;
};

struct type_ops;

/// Where the next value goes; `ops == nullptr` skips it (unknown field).
struct slot {
  void* obj = nullptr;
  const type_ops* ops = nullptr;
};

/// One open container.
struct frame {
  void* obj = nullptr;
  const type_ops* ops = nullptr;
  bool object = false;
  std::size_t count = 0;   ///< arrays: elements so far
  std::uint64_t seen = 0;  ///< structs: one bit per member seen
  int member = -1;         ///< structs: the current member
};

/// What the driver calls for one type. Every function returns false when the
/// input does not fit (the DOM decoder then words the error).
struct type_ops {
  bool supported = true;
  /// A scalar arrives for an object of this type.
  bool (*on_scalar)(void* obj, const scalar& v, const codec_options& o) = nullptr;
  /// `{` (`f.object`) or `[` arrives; may retarget `f` (optional -> value).
  bool (*on_begin)(frame& f) = nullptr;
  /// The next value inside this container (`key` for objects).
  bool (*on_element)(frame& f, std::string_view key, slot& out, const codec_options& o) = nullptr;
  /// The container ends.
  bool (*on_end)(frame& f) = nullptr;
};

template <class T>
const type_ops& ops_of();

/// `ok`; `mismatch`: the input does not fit (the DOM words the error);
/// `unsupported`: a type on the way has no table.
enum class outcome { ok, mismatch, unsupported };

/// Parses `text` into `root`, which may be partially assigned unless `ok`.
outcome run(std::string_view text, slot root, const codec_options& o);

template <class T>
struct leaf {
  static bool on_scalar(void* obj, const scalar& v, const codec_options&) {
    T& out = *static_cast<T*>(obj);
    constexpr shape s = shape_of<T>();
    if constexpr (s == shape::boolean) {
      if (v.kind != json::kind::bool_)
        return false;
      out = v.b;
    } else if constexpr (s == shape::integer) {
      if (v.kind == json::kind::int64 && std::in_range<T>(v.i))
        out = static_cast<T>(v.i);
      else if (v.kind == json::kind::uint64 && std::in_range<T>(v.u))
        out = static_cast<T>(v.u);
      else
        return false;
    } else if constexpr (s == shape::floating) {
      double x = 0;
      switch (v.kind) {
        case json::kind::double_: x = v.d; break;
        case json::kind::int64: x = static_cast<double>(v.i); break;
        case json::kind::uint64: x = static_cast<double>(v.u); break;
        default: return false;
      }
      if constexpr (std::is_same_v<T, float>)
        if (std::isfinite(x) && std::abs(x) > std::numeric_limits<float>::max())
          return false;
      out = static_cast<T>(x);
    } else if constexpr (s == shape::string) {
      if (v.kind != json::kind::string)
        return false;
      out.assign(v.s.data(), v.s.size());
    } else if constexpr (s == shape::bytes) {
      if (v.kind != json::kind::string)
        return false;
      out.resize(v.s.size());
      if (!v.s.empty())
        std::memcpy(out.data(), v.s.data(), v.s.size());
    } else {
      static_assert(s == shape::enumeration);
      if (v.kind != json::kind::string)
        return false;
      bool found = false;
      boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
        if (!found && v.s == std::string_view{decltype(d)::name}) {
          out = d.value;
          found = true;
        }
      });
      return found;
    }
    return true;
  }
  static bool on_begin(frame&) { return false; }
};

template <class T>
struct optional_ops {
  using U = typename T::value_type;
  static bool on_scalar(void* obj, const scalar& v, const codec_options& o) {
    T& out = *static_cast<T*>(obj);
    if (v.kind == json::kind::null) {
      out.reset();
      return true;
    }
    const type_ops& u = ops_of<U>();
    if (!u.supported)
      return false;
    if (!out)
      out.emplace();
    return u.on_scalar(&*out, v, o);
  }
  static bool on_begin(frame& f) {
    T& out = *static_cast<T*>(f.obj);
    if (!out)
      out.emplace();
    f.obj = &*out;
    f.ops = &ops_of<U>();
    return f.ops->supported && f.ops->on_begin(f);  // the driver checks which failed
  }
};

template <class T>
struct array_ops {
  using U = typename T::value_type;
  static bool on_scalar(void*, const scalar&, const codec_options&) { return false; }
  static bool on_begin(frame& f) {
    f.count = 0;
    return !f.object;
  }
  static bool on_element(frame& f, std::string_view, slot& out, const codec_options&) {
    T& x = *static_cast<T*>(f.obj);
    // Existing elements are reused (their strings and vectors keep storage).
    if (f.count == x.size()) {
      if (x.capacity() == 0)
        x.reserve(4);  // skips the 1-2-4 growth of a fresh vector
      x.emplace_back();
    }
    out = {&x[f.count++], &ops_of<U>()};
    return true;
  }
  static bool on_end(frame& f) {
    static_cast<T*>(f.obj)->resize(f.count);
    return true;
  }
};

template <class T>
struct map_ops {
  using U = typename T::mapped_type;
  static bool on_scalar(void*, const scalar&, const codec_options&) { return false; }
  static bool on_begin(frame& f) {
    static_cast<T*>(f.obj)->clear();
    return f.object;
  }
  static bool on_element(frame& f, std::string_view key, slot& out, const codec_options&) {
    auto& node = *static_cast<T*>(f.obj)->try_emplace(std::string{key}).first;
    out = {&node.second, &ops_of<U>()};
    return true;
  }
  static bool on_end(frame&) { return true; }
};

template <class L>
struct member_names;
template <template <class...> class L, class... D>
struct member_names<L<D...>> {
  static constexpr std::array<std::string_view, sizeof...(D)> value{std::string_view{D::name}...};
};

template <class T>
struct struct_ops {
  static_assert(check_struct<T>());
  using members = members_of<T>;
  static constexpr std::size_t size = boost::mp11::mp_size<members>::value;
  static constexpr auto& names = member_names<members>::value;

  static bool on_scalar(void*, const scalar&, const codec_options&) { return false; }
  static bool on_begin(frame& f) {
    f.seen = 0;
    f.member = -1;
    return f.object;
  }
  static bool same(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
  }
  static int find(std::string_view key, int previous) noexcept {
    // Producers usually write members in declaration order: try the next one.
    auto next = static_cast<std::size_t>(previous + 1);
    if (next < size && same(names[next], key))
      return static_cast<int>(next);
    for (std::size_t i = 0; i < size; ++i)
      if (same(names[i], key))
        return static_cast<int>(i);
    return -1;
  }
  static bool on_element(frame& f, std::string_view key, slot& out, const codec_options& o) {
    int i = find(key, f.member);
    if (i < 0) {
      out = {};
      return !o.strict;
    }
    f.member = i;
    f.seen |= std::uint64_t{1} << i;
    T& x = *static_cast<T*>(f.obj);
    if constexpr (size > 0)
      boost::mp11::mp_with_index<size>(static_cast<std::size_t>(i), [&](auto I) {
        using D = boost::mp11::mp_at_c<members, I>;
        out = {&(x.*D::pointer), &ops_of<member_type<T, D>>()};
      });
    return true;
  }
  static bool on_end(frame& f) {
    T& x = *static_cast<T*>(f.obj);
    bool ok = true;
    std::size_t i = 0;
    boost::mp11::mp_for_each<members>([&](auto d) {
      if (!(f.seen & (std::uint64_t{1} << i))) {
        if constexpr (is_optional<member_type<T, decltype(d)>>::value)
          (x.*decltype(d)::pointer).reset();
        else
          ok = false;
      }
      ++i;
    });
    return ok;
  }
};

inline constexpr type_ops unsupported_table{false, nullptr, nullptr, nullptr, nullptr};

template <class X>
constexpr type_ops container_table() {
  return {true, &X::on_scalar, &X::on_begin, &X::on_element, &X::on_end};
}

template <class T>
const type_ops& ops_of() {
  constexpr shape s = shape_of<T>();
  if constexpr (s == shape::any || std::is_same_v<T, std::vector<bool>>) {
    return unsupported_table;
  } else if constexpr (s == shape::structure) {
    if constexpr (struct_ops<T>::size > 64) {
      return unsupported_table;
    } else {
      static constexpr type_ops t = container_table<struct_ops<T>>();
      return t;
    }
  } else if constexpr (s == shape::optional) {
    static constexpr type_ops t{true, &optional_ops<T>::on_scalar, &optional_ops<T>::on_begin,
                                nullptr, nullptr};
    return t;
  } else if constexpr (s == shape::array) {
    static constexpr type_ops t = container_table<array_ops<T>>();
    return t;
  } else if constexpr (s == shape::map) {
    static constexpr type_ops t = container_table<map_ops<T>>();
    return t;
  } else {
    static constexpr type_ops t{true, &leaf<T>::on_scalar, &leaf<T>::on_begin, nullptr, nullptr};
    return t;
  }
}

}  // namespace brook::detail::codec::sax
