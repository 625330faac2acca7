// Linked into the test executables of a TSan build only (cmake/brook_module.cmake).
//
// librdkafka starts its threads and takes its locks through C11's <threads.h>. glibc
// implements those with its own internal pthread calls, past TSan's interceptors: a
// thread librdkafka starts is unknown to TSan (which then crashes in its allocator on
// that thread's first malloc), and its mutexes order nothing. These definitions live in
// the executable, so the dynamic linker binds librdkafka's references to them instead of
// libc's, and each goes through the intercepted pthread function. glibc's thrd_t,
// mtx_t, cnd_t and once_flag are a pthread_t, pthread_mutex_t, pthread_cond_t and
// pthread_once_t underneath. <threads.h> is not included: its declarations carry libc's
// exception specifications, which these definitions need not repeat.
#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

namespace {
// glibc's values (<threads.h>).
constexpr int thrd_success = 0, thrd_busy = 1, thrd_error = 2, thrd_nomem = 3, thrd_timedout = 4;
constexpr int mtx_recursive = 1;

int result(int rc) {
  switch (rc) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

using start_fn = int (*)(void*);
struct start {
  start_fn fn;
  void* arg;
};
void* trampoline(void* p) {
  auto s = *static_cast<start*>(p);
  delete static_cast<start*>(p);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(s.fn(s.arg)));
}

pthread_mutex_t* mutex(void* m) {
  return static_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* cond(void* c) {
  return static_cast<pthread_cond_t*>(c);
}
}  // namespace

extern "C" {

int thrd_create(pthread_t* thr, start_fn fn, void* arg) {
  auto* s = new start{fn, arg};
  int rc = pthread_create(thr, nullptr, &trampoline, s);
  if (rc != 0)
    delete s;
  return result(rc);
}

int thrd_join(pthread_t thr, int* res) {
  void* r = nullptr;
  int rc = pthread_join(thr, &r);
  if (rc == 0 && res)
    *res = static_cast<int>(reinterpret_cast<std::intptr_t>(r));
  return result(rc);
}

int thrd_detach(pthread_t thr) {
  return result(pthread_detach(thr));
}

int mtx_init(void* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive)
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init(mutex(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return result(rc);
}
int mtx_lock(void* m) {
  return result(pthread_mutex_lock(mutex(m)));
}
int mtx_trylock(void* m) {
  return result(pthread_mutex_trylock(mutex(m)));
}
int mtx_timedlock(void* m, const timespec* until) {
  return result(pthread_mutex_timedlock(mutex(m), until));
}
int mtx_unlock(void* m) {
  return result(pthread_mutex_unlock(mutex(m)));
}
void mtx_destroy(void* m) {
  pthread_mutex_destroy(mutex(m));
}

int cnd_init(void* c) {
  return result(pthread_cond_init(cond(c), nullptr));
}
int cnd_signal(void* c) {
  return result(pthread_cond_signal(cond(c)));
}
int cnd_broadcast(void* c) {
  return result(pthread_cond_broadcast(cond(c)));
}
int cnd_wait(void* c, void* m) {
  return result(pthread_cond_wait(cond(c), mutex(m)));
}
int cnd_timedwait(void* c, void* m, const timespec* until) {
  return result(pthread_cond_timedwait(cond(c), mutex(m), until));
}
void cnd_destroy(void* c) {
  pthread_cond_destroy(cond(c));
}

void call_once(pthread_once_t* flag, void (*fn)()) {
  pthread_once(flag, fn);
}

}  // extern "C"
