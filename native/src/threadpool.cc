// A persistent worker pool for the memory-bound kernels (parallelFor in parallel.h) and the
// split of many small sgemms (smallGemmsOverThreads).
//
// Spawning threads per kernel call costs thread creation on every call, and worse, the caller
// then waits in join() until the new thread has been scheduled and has finished its fixed share.
// On a loaded machine (shared CI, other processes) that wait is a scheduler latency per kernel.
// Here the work is cut into chunks handed out by an atomic counter: the caller starts at once,
// workers join when they get a CPU, and whoever is running takes the next chunk; the caller only
// waits for workers that are inside a chunk at the end. Results do not depend on who ran which
// chunk (callers pass chunk functions whose outputs are disjoint).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#include "perf_kernels.h"

namespace {

struct Pool {
  std::mutex m;               // guards everything below but `next`
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const llk::ChunkFn *fn = nullptr;  // the job (null: none open for joining)
  int64_t n = 0, chunk = 1;
  std::atomic<int64_t> next{0};
  uint64_t generation = 0;
  int joined = 0, wanted = 0, active = 0;
  std::mutex run;             // one job at a time; a concurrent caller runs its work inline

  void work(const llk::ChunkFn &f, int64_t total, int64_t step) {
    for (;;) {
      const int64_t b = next.fetch_add(step);
      if (b >= total) return;
      f(b, std::min(total, b + step));
    }
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(m);
    for (;;) {
      wake.wait(lk, [&] { return fn && generation != seen && joined < wanted; });
      seen = generation;
      joined++;
      active++;
      const llk::ChunkFn *f = fn;
      const int64_t total = n, step = chunk;
      lk.unlock();
      work(*f, total, step);
      lk.lock();
      if (--active == 0) done.notify_all();
    }
  }

};

// never destroyed: joining workers from a static destructor at exit could wait on a lock another
// exiting thread holds; the process's exit ends the (idle) workers
Pool &pool() {
  static Pool *p = new Pool;
  return *p;
}

}  // namespace

namespace llk {

void parallelRun(int64_t n, int64_t chunk, int threads, const ChunkFn &f) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  Pool &p = pool();
  std::unique_lock<std::mutex> running(p.run, std::try_to_lock);
  if (threads <= 1 || n <= chunk || !running.owns_lock()) {
    f(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(p.m);
    while (int(p.workers.size()) < threads - 1) p.workers.emplace_back([&p] { p.loop(); });
    p.fn = &f;
    p.n = n;
    p.chunk = chunk;
    p.next.store(0);
    p.generation++;
    p.joined = 0;
    p.wanted = threads - 1;
  }
  p.wake.notify_all();
  p.work(f, n, chunk);
  std::unique_lock<std::mutex> lk(p.m);
  p.fn = nullptr;  // closed: late workers go back to sleep
  p.done.wait(lk, [&] { return p.active == 0; });
}

}  // namespace llk
