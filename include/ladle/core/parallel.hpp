// ladle/core/parallel.hpp: execution policies and the one place ladle starts threads.
//
//   ladle::seq            run on the calling thread (the default everywhere);
//   ladle::par            all hardware threads;
//   ladle::par(4)         at most four threads.
//
// Work is cut into chunks whose boundaries depend only on the problem size and a grain, never on
// the thread count, and reductions combine per-chunk partials in chunk order. So a result is
// bit-identical for seq, par(2) and par(64).
//
// By default ladle runs chunks on a small internal pool (started on first use, one per process).
// A host codebase can route them to its own pool instead with set_parallel_for().
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace ladle {

/// Run on the calling thread.
struct sequential_policy {
  constexpr int threads() const noexcept { return 1; }
};

/// Run chunks on up to `max_threads` threads (0 = all hardware threads).
struct parallel_policy {
  int max_threads = 0;
  /// par(n): a policy limited to n threads.
  constexpr parallel_policy operator()(int n) const noexcept { return parallel_policy{n}; }
  int threads() const noexcept {
    if (max_threads > 0) return max_threads;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
  }
};

inline constexpr sequential_policy seq{};
inline constexpr parallel_policy par{};

template <class T>
struct is_execution_policy
    : std::integral_constant<bool, std::is_same<std::decay_t<T>, sequential_policy>::value ||
                                       std::is_same<std::decay_t<T>, parallel_policy>::value> {};
template <class T>
inline constexpr bool is_execution_policy_v = is_execution_policy<T>::value;

/// A host pool: run task(i) once for every i in [0, tasks), on at most `threads` threads, and
/// return when all are done. Exceptions must not escape `task` (ladle catches them itself).
using parallel_backend =
    std::function<void(index_t tasks, const std::function<void(index_t)>& task, int threads)>;

namespace detail {

// A small fixed pool. Workers sleep on a condition variable between jobs; the calling thread
// takes chunks too and returns as soon as every chunk has finished, without waiting for workers
// that woke too late to claim one (each job is reference-counted so a late worker only ever
// touches its own finished job).
class thread_pool {
  struct job {
    const std::function<void(index_t)>* task;
    index_t tasks;
    int helpers;
    std::atomic<index_t> next{0};
    std::atomic<index_t> done{0};
  };

 public:
  explicit thread_pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  }
  ~thread_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int workers() const noexcept { return static_cast<int>(threads_.size()); }

  // Runs task(0..tasks-1) on the caller plus up to `helpers` workers.
  void run(index_t tasks, const std::function<void(index_t)>& task, int helpers) {
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (!job_lock.owns_lock() || helpers <= 0) {  // pool busy (another caller): run inline
      for (index_t i = 0; i < tasks; ++i) task(i);
      return;
    }
    auto current = std::make_shared<job>();
    current->task = &task;
    current->tasks = tasks;
    current->helpers = std::min(helpers, workers());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = current;
      ++generation_;
    }
    wake_.notify_all();
    drain(*current);
    if (current->done.load() != tasks) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return current->done.load() == tasks; });
    }
    std::lock_guard<std::mutex> lock(mutex_);
    job_.reset();
  }

 private:
  // Claims and runs chunks until none are left; returns whether this call finished the job.
  bool drain(job& j) {
    bool finished_last = false;
    for (index_t i = j.next.fetch_add(1); i < j.tasks; i = j.next.fetch_add(1)) {
      (*j.task)(i);
      if (j.done.fetch_add(1) + 1 == j.tasks) finished_last = true;
    }
    return finished_last;
  }
  void worker_loop(int id) {
    std::uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<job> mine;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (!job_ || id >= job_->helpers) continue;
        mine = job_;
      }
      if (drain(*mine)) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_all();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex job_mutex_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::shared_ptr<job> job_;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

inline thread_pool& default_pool() {
  static thread_pool pool(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1));
  return pool;
}

inline parallel_backend& backend_slot() {
  static parallel_backend backend;  // empty: use the internal pool
  return backend;
}

inline std::mutex& backend_mutex() {
  static std::mutex m;
  return m;
}

inline bool& inside_parallel_region() {
  static thread_local bool inside = false;
  return inside;
}

}  // namespace detail

/// Routes ladle's parallel work to a host pool (TBB, at::parallel_for, a game engine's jobs).
/// Pass an empty function to return to the internal pool. Not to be called while ladle runs.
inline void set_parallel_for(parallel_backend backend) {
  std::lock_guard<std::mutex> lock(detail::backend_mutex());
  detail::backend_slot() = std::move(backend);
}

/// Number of chunks parallel_for cuts [0, n) into for a given grain (independent of threads).
constexpr index_t chunk_count(index_t n, index_t grain) noexcept {
  return n <= 0 ? 0 : (n + grain - 1) / grain;
}

/// Calls body(begin, end) for consecutive chunks [begin, end) of [0, n), each at most `grain`
/// long. With seq the chunks run in order on this thread; with par they run concurrently. The
/// chunk boundaries are the same for every policy. The first exception (lowest chunk) thrown by
/// body is rethrown here after all chunks stop.
template <class Policy, class Body>
void parallel_for(const Policy& policy, index_t n, index_t grain, Body&& body) {
  static_assert(is_execution_policy_v<Policy>, "ladle::parallel_for: not an execution policy");
  if (grain <= 0) throw_invalid_argument("parallel_for", "grain", "must be positive, got ", grain);
  const index_t chunks = chunk_count(n, grain);
  if (chunks == 0) return;
  const int threads = static_cast<int>(std::min<index_t>(policy.threads(), chunks));
  if (threads <= 1 || detail::inside_parallel_region()) {
    for (index_t c = 0; c < chunks; ++c) body(c * grain, std::min(n, (c + 1) * grain));
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(chunks));
  std::atomic<bool> failed{false};
  const std::function<void(index_t)> task = [&](index_t c) {
    if (failed.load(std::memory_order_relaxed)) return;
    bool& inside = detail::inside_parallel_region();
    const bool was_inside = inside;
    inside = true;
#if LADLE_HAS_EXCEPTIONS
    try {
      body(c * grain, std::min(n, (c + 1) * grain));
    } catch (...) {
      errors[static_cast<std::size_t>(c)] = std::current_exception();
      failed.store(true);
    }
#else
    body(c * grain, std::min(n, (c + 1) * grain));
#endif
    inside = was_inside;
  };
  parallel_backend backend;
  {
    std::lock_guard<std::mutex> lock(detail::backend_mutex());
    backend = detail::backend_slot();
  }
  if (backend) {
    backend(chunks, task, threads);
  } else {
    detail::default_pool().run(chunks, task, threads - 1);
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

/// Deterministic map-reduce: partial = map(begin, end) per chunk, then the partials are folded
/// left to right with combine(acc, partial) starting from init. Same bits for every policy.
template <class Policy, class T, class Map, class Combine>
T parallel_reduce(const Policy& policy, index_t n, index_t grain, T init, Map&& map,
                  Combine&& combine) {
  const index_t chunks = chunk_count(n, grain);
  std::vector<T> partials(static_cast<std::size_t>(chunks), init);
  parallel_for(policy, n, grain, [&](index_t begin, index_t end) {
    partials[static_cast<std::size_t>(begin / grain)] = map(begin, end);
  });
  T acc = std::move(init);
  for (auto& p : partials) acc = combine(std::move(acc), std::move(p));
  return acc;
}

}  // namespace ladle
