#pragma once
// Helpers for the tests that check the delivery ledger: which distinct bodies a
// handler finished, and how often it ran (a duplicate shows as calls > size()).
#include <cstddef>
#include <mutex>
#include <set>
#include <string>

namespace brook_test_support {

struct handled_set {
  std::mutex mtx;
  std::set<std::string> bodies;
  std::size_t calls = 0;
  void add(const std::string& b) {
    std::lock_guard lock{mtx};
    bodies.insert(b);
    ++calls;
  }
  std::size_t size() {
    std::lock_guard lock{mtx};
    return bodies.size();
  }
};

}  // namespace brook_test_support
