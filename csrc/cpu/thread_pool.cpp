// Work-sharing pool behind parallel_for (see thread_pool.h for why not OpenMP).
// One job at a time: one atomic packs (chunk count : 16 | next chunk : 16), so a claim
// (fetch_add) reads the job's bound with its chunk; a worker that wakes after the job is done
// sees next ≥ count and claims nothing. The caller claims chunks too and then waits only for
// `finished` to reach the count, i.e. for chunks already running on a worker.
// A chunk that throws (std::bad_alloc for a kernel's scratch row) must not end the process from
// a worker, nor let the caller leave while workers still run the job on its stack frame: every
// chunk runs under a catch, the first exception is kept, and run() rethrows it once all chunks
// are finished.
#include "xpgrad/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <pthread.h>
#include <system_error>
#include <thread>
#include <vector>

namespace xpgrad::cpu {
namespace {

// The first positive whole number among XPGRAD_NUM_THREADS and OMP_NUM_THREADS (others are
// ignored), else the core count; at most 4 threads per core (at least 256 in all): each
// thread here has an OpenMP twin in the GEMM, and libgomp ends the process when it cannot
// start one (XPGRAD_NUM_THREADS=40000 did).
int configured_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  const long most = std::max(256L, 4L * long(hw));
  for (const char* var : {"XPGRAD_NUM_THREADS", "OMP_NUM_THREADS"})
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      errno = 0;
      const long n = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && errno == 0 && n > 0) return int(std::min(n, most));
    }
  return hw ? int(hw) : 1;
}

// Set in a child process after fork(): the workers did not survive and the mutexes may be
// held by threads that no longer exist, so the child runs every kernel serially.
std::atomic<bool> forked{false};

class Pool {
 public:
  explicit Pool(int threads) {
    pthread_atfork(nullptr, nullptr, [] { forked.store(true); });
    // As many workers as the system lets us start (a pids or memory limit may stop us short of
    // the count asked for): the pool runs with those rather than fail every kernel.
    try {
      for (int i = 0; i + 1 < threads; ++i) workers_.emplace_back([this, i] { work(i); });
    } catch (const std::system_error&) {
    }
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int size() const { return int(workers_.size()) + 1; }

  // Runs the job on the caller and the first threads − 1 workers.
  void run(int threads, int64_t chunks, void (*fn)(void*, int64_t), void* ctx) {
    if (forked.load(std::memory_order_relaxed)) return serial(chunks, fn, ctx);
    std::unique_lock<std::mutex> busy(job_mutex_, std::try_to_lock);
    if (!busy || threads < 2 || workers_.empty() || chunks < 2 || chunks > 0xFFFF) return serial(chunks, fn, ctx);
    fn_ = fn;
    ctx_ = ctx;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++job_;
      helpers_ = threads - 1;
      counter_.store(uint64_t(chunks) << 16, std::memory_order_release);
    }
    wake_.notify_all();
    drain();
    while (finished_.load(std::memory_order_acquire) < chunks) std::this_thread::yield();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static void serial(int64_t chunks, void (*fn)(void*, int64_t), void* ctx) {
    for (int64_t c = 0; c < chunks; ++c) fn(ctx, c);
  }

  // Claims and runs chunks of the current job until none is left.
  void drain() {
    for (;;) {
      uint64_t v = counter_.fetch_add(1, std::memory_order_acq_rel);
      uint64_t count = (v >> 16) & 0xFFFF, chunk = v & 0xFFFF;
      if (chunk >= count) return;
      try {
        fn_(ctx_, int64_t(chunk));
      } catch (...) {
        // Written once, before this chunk counts as finished: run() reads it after the last.
        if (!failed_.exchange(true, std::memory_order_relaxed)) error_ = std::current_exception();
      }
      finished_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  // Worker `index` (0-based) sleeps through the jobs that leave it out (set_num_threads).
  void work(int index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || (job_ != seen && index < helpers_); });
        if (stop_) return;
        seen = job_;
      }
      drain();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex job_mutex_;  // one job at a time
  std::mutex mutex_;      // guards job_ / helpers_ / stop_ for the condition variable
  std::condition_variable wake_;
  uint64_t job_ = 0;  // bumped per job: wakes the workers
  int helpers_ = 0;   // how many workers take part in the current job
  bool stop_ = false;
  std::atomic<uint64_t> counter_{0};
  std::atomic<int64_t> finished_{0};
  void (*fn_)(void*, int64_t) = nullptr;
  void* ctx_ = nullptr;
  std::atomic<bool> failed_{false};  // a chunk of the current job has thrown
  std::exception_ptr error_;         // the first one's exception
};

Pool& pool() {
  // Leaked on purpose: joining threads during interpreter shutdown can deadlock.
  static Pool* p = new Pool(configured_threads());
  return *p;
}

}  // namespace

std::atomic<int> limit{1 << 30};

// One after a fork(): neither this pool's workers nor OpenMP's survive it (libgomp's next
// parallel region waits forever for its team), so the GEMM runs on the caller alone.
int num_threads() {
  if (forked.load(std::memory_order_relaxed)) return 1;
  return std::min(pool().size(), limit.load(std::memory_order_relaxed));
}

int set_num_threads(int n) {
  limit.store(std::max(n, 1), std::memory_order_relaxed);
  return num_threads();
}

void run_chunks(int64_t chunks, void (*fn)(void*, int64_t), void* ctx) {
  pool().run(num_threads(), chunks, fn, ctx);
}

}  // namespace xpgrad::cpu
