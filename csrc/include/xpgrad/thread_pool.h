// The kernels' worker threads. Why not OpenMP: on this 2-core machine PyTorch brings its own
// OpenMP runtime, and two runtimes' spinning teams starve each other (a 50 µs softmax took
// 12 ms, one scheduler quantum, in the same process as torch). Here the calling thread works
// through the chunks itself and waits only for chunks a worker has actually started, so a
// descheduled or busy worker costs nothing.
#pragma once
#include <cstdint>

namespace xpgrad::cpu {

// Threads that run kernels, the caller included: XPGRAD_NUM_THREADS, else OMP_NUM_THREADS,
// else the hardware's.
int num_threads();

// Uses at most n threads from now on (n ≥ 1, capped at the pool's size); returns the new count.
int set_num_threads(int n);

// Calls fn(ctx, c) for every c in [0, chunks), spread over the pool; returns when all are done.
// If chunks throw, the first exception is rethrown here, once no chunk of the job is running.
// A call made while the pool is busy (another thread's kernel) runs serially in its caller.
void run_chunks(int64_t chunks, void (*fn)(void* ctx, int64_t chunk), void* ctx);

}  // namespace xpgrad::cpu
