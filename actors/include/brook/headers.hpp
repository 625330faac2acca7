#pragma once
/// @file
/// Message headers: an ordered list of key/value pairs (order matters on the
/// wire, e.g. in FastStream's Redis envelope).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brook {

/// Ordered headers with map-like lookup.
/// @code
/// brook::headers h;
/// h.set("x-tenant", "acme");
/// if (auto v = h.find("x-tenant")) use(*v);
/// @endcode
class headers {
public:
  using value_type = std::pair<std::string, std::string>;
  headers() = default;
  headers(std::initializer_list<value_type> xs) : items_(xs) {}

  /// The value of `key`, or null.
  const std::string* find(std::string_view key) const noexcept {
    for (auto& [k, v] : items_)
      if (k == key)
        return &v;
    return nullptr;
  }
  /// Replaces the value of `key` or appends it.
  void set(std::string key, std::string value) {
    for (auto& kv : items_)
      if (kv.first == key) {
        kv.second = std::move(value);
        return;
      }
    items_.emplace_back(std::move(key), std::move(value));
  }
  void erase(std::string_view key) {
    std::erase_if(items_, [&](const value_type& kv) { return kv.first == key; });
  }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void reserve(std::size_t n) { items_.reserve(n); }
  void push_back(value_type kv) { items_.push_back(std::move(kv)); }
  void clear() noexcept { items_.clear(); }
  /// Replaces the pairs with the `n` that `at(i)` returns (a pair of string views), writing
  /// over the strings already here so their storage is reused (a driver refilling a pooled
  /// envelope allocates nothing once warm).
  /// @code
  /// h.refill(2, [](std::size_t i) { return std::pair<std::string_view, std::string_view>{
  ///                                   i == 0 ? "a" : "b", "1"}; });
  /// @endcode
  template <class At>
  void refill(std::size_t n, At&& at) {
    if (items_.size() > n)
      items_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto [k, v] = at(i);
      if (i < items_.size()) {
        items_[i].first.assign(k);
        items_[i].second.assign(v);
      } else {
        items_.emplace_back(std::string{k}, std::string{v});
      }
    }
  }
  bool operator==(const headers&) const = default;

private:
  std::vector<value_type> items_;
};

}  // namespace brook
