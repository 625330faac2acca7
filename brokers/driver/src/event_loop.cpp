#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <brook/driver/event_loop.hpp>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>

namespace brook::driver {

event_loop::event_loop() {
  base_ = event_base_new();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!base_ || wake_fd_ < 0)
    throw std::system_error(errno, std::generic_category(),
                            "brook driver: event loop setup (event_base_new / eventfd)");
  wake_event_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &event_loop::on_wake, this);
  event_add(wake_event_, nullptr);
}

event_loop::~event_loop() {
  event_free(wake_event_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void event_loop::run() {
  loop_thread_ = std::this_thread::get_id();
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  // Tasks posted while the loop was stopping still run, so every publish callback fires.
  std::vector<task> rest;
  {
    std::lock_guard guard{mutex_};
    finished_ = true;
    rest.swap(queue_);
  }
  for (auto& t : rest)
    t();
}

void event_loop::stop() {
  event_base_loopbreak(base_);
}

bool event_loop::post(task t) {
  {
    std::lock_guard guard{mutex_};
    if (finished_)
      return false;
    queue_.push_back(std::move(t));
  }
  // Only the first poster after a drain writes to the eventfd: one syscall per batch.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  return true;
}

void event_loop::on_wake(int, short, void* self) {
  static_cast<event_loop*>(self)->drain();
}

void event_loop::drain() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof count);
  wake_pending_.store(false, std::memory_order_release);
  std::vector<task> batch;
  {
    std::lock_guard guard{mutex_};
    batch.swap(queue_);
  }
  for (auto& t : batch)
    t();
  if (after_drain_)
    after_drain_();
}

timer::timer(event_loop& loop, std::function<void()> fn) : fn_(std::move(fn)) {
  event_ = evtimer_new(loop.base(), &timer::on_fire, this);
}

timer::~timer() {
  event_free(event_);
}

void timer::start(std::chrono::milliseconds delay) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  evtimer_add(event_, &tv);
}

void timer::cancel() {
  evtimer_del(event_);
}

bool timer::armed() const {
  return evtimer_pending(event_, nullptr) != 0;
}

void timer::on_fire(int, short, void* self) {
  static_cast<timer*>(self)->fn_();
}

}  // namespace brook::driver
