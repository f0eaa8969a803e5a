#pragma once

#include <pthread.h>

namespace caraway::owner {

/// A mutex for short critical sections taken from several threads at once
/// (the owner lock, the memory store's lock): a thread that finds it held
/// spins briefly before it sleeps, since the holder is about to let go.
/// Sleeping and being woken cost a system call each way and, on a small
/// machine, a context switch per contended call.
class short_mutex {
public:
  short_mutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mtx_, &attr);
    pthread_mutexattr_destroy(&attr);
  }

  ~short_mutex() {
    pthread_mutex_destroy(&mtx_);
  }

  short_mutex(const short_mutex&) = delete;
  short_mutex& operator=(const short_mutex&) = delete;

  void lock() {
    pthread_mutex_lock(&mtx_);
  }

  bool try_lock() {
    return pthread_mutex_trylock(&mtx_) == 0;
  }

  void unlock() {
    pthread_mutex_unlock(&mtx_);
  }

private:
  pthread_mutex_t mtx_;
};

} // namespace caraway::owner
