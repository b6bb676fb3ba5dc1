// Barrier-free work sharing for the GEMM's parallel loops.
//
// A barrier makes every thread wait for the slowest; on a shared machine a thread that loses
// its core for a scheduler quantum (milliseconds) then stalls the whole product. Instead:
// - WorkRanges: the items (B slivers, A slivers) are split into one contiguous range per thread,
//   so neighbouring tiles of C (whose edge cache lines may be shared) stay with one thread;
//   a thread that finishes its range takes the items left in the others'. Items are claimed
//   in runs (a block of B slivers, of A slivers) that shrink toward the end of a range.
// - PackOnce: each shared packed sliver is packed by the first thread that needs it; the others
//   wait only for that sliver, and only if it is being packed right then.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace xpgrad::cpu {

class WorkRanges {
 public:
  WorkRanges(int parts, int64_t items) : next_(new Next[parts]), parts_(parts), items_(items) { reset(); }

  void reset() {
    for (int p = 0; p < parts_; ++p) next_[p].v.store(begin(p), std::memory_order_relaxed);
  }

  // Calls f(first, count) for runs of up to max_run consecutive items of thread t's own range,
  // then of what is left in the others'. With several threads a claim takes at most half of
  // what is left in a range, so each range ends in single items and the threads finish
  // together (claiming whole runs to the end measured 1.03x slower over the MLP shapes on two
  // threads, with runs of 4 B slivers, and 1.38x slower at 512³, with runs of A slivers).
  template <class F>
  void run(int t, int64_t max_run, F&& f) {
    for (int i = 0; i < parts_; ++i) {
      const int p = (t + i) % parts_;
      const int64_t end = begin(p + 1);
      for (int64_t s = next_[p].v.load(std::memory_order_relaxed); s < end;) {
        const int64_t take = parts_ == 1 ? max_run : std::clamp<int64_t>((end - s) / 2, 1, max_run);
        if (next_[p].v.compare_exchange_weak(s, s + take, std::memory_order_relaxed)) {
          f(s, std::min(take, end - s));
          s = next_[p].v.load(std::memory_order_relaxed);
        }
      }
    }
  }

 private:
  struct alignas(64) Next {
    std::atomic<int64_t> v{0};
  };
  int64_t begin(int p) const { return items_ * p / parts_; }
  std::unique_ptr<Next[]> next_;
  int parts_;
  int64_t items_;
};

class PackOnce {
 public:
  explicit PackOnce(int64_t items) : state_(new std::atomic<int>[items]), items_(items) { reset(); }

  void reset() {
    for (int64_t i = 0; i < items_; ++i) state_[i].store(kTodo, std::memory_order_relaxed);
  }

  // Runs pack() if item i is not packed yet and no other thread is packing it; else waits
  // until it is packed. The release/acquire pair publishes the packed data.
  template <class F>
  void ensure(int64_t i, F&& pack) {
    if (state_[i].load(std::memory_order_acquire) == kDone) return;
    int expected = kTodo;
    if (state_[i].compare_exchange_strong(expected, kBusy, std::memory_order_acquire)) {
      pack();
      state_[i].store(kDone, std::memory_order_release);
      return;
    }
    // Packing a sliver takes microseconds; yield while waiting in case the packer has lost
    // its core to another process (spinning would then keep it off the CPU).
    for (int spins = 0; state_[i].load(std::memory_order_acquire) != kDone; ++spins)
      if (spins > 1000) std::this_thread::yield();
  }

 private:
  static constexpr int kTodo = 0, kBusy = 1, kDone = 2;
  std::unique_ptr<std::atomic<int>[]> state_;
  int64_t items_;
};

}  // namespace xpgrad::cpu
