#pragma once
/// @file
/// Per-message context: a typed key/value scope handlers and middlewares
/// share for the duration of one message.
#include <any>
#include <map>
#include <string>
#include <string_view>

namespace brook {

/// Values middlewares put for handlers (and the other way round), e.g. a
/// tenant resolved from a header.
/// @code
/// ctx.set("tenant", std::string{"acme"});
/// auto* t = ctx.get<std::string>("tenant");  // null if absent or of another type
/// @endcode
class context {
public:
  template <class T>
  void set(std::string key, T value) {
    values_[std::move(key)] = std::move(value);
  }
  template <class T>
  T* get(std::string_view key) {
    auto i = values_.find(key);
    return i == values_.end() ? nullptr : std::any_cast<T>(&i->second);
  }
  bool contains(std::string_view key) const { return values_.find(key) != values_.end(); }

private:
  std::map<std::string, std::any, std::less<>> values_;
};

}  // namespace brook
