#pragma once
/// @file
/// A mutex for short critical sections that two busy threads share, e.g. a
/// publisher thread and a scheduler thread settling messages of one queue.
/// Internal to brook's drivers.
#include <mutex>

namespace brook::detail {

/// Spins briefly before it sleeps. A plain std::mutex puts the loser of a
/// race to sleep at once, and on virtual machines waking it costs 20-30 us,
/// many times the critical section: two busy threads then spend their time
/// waking each other. Satisfies Lockable (use with std::lock_guard).
class adaptive_mutex {
public:
  void lock() {
    for (int i = 0; i < 256; ++i) {
      if (m_.try_lock())
        return;
      relax();
    }
    m_.lock();
  }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

private:
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();  // PAUSE, without <immintrin.h> in an installed header
#endif
  }
  std::mutex m_;
};

}  // namespace brook::detail
