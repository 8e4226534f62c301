// Thread splits of the kernels: parallelFor over the persistent pool (threadpool.cc) for the
// memory-bound kernels, forEachDynamic for items of uneven cost (conv.cc, pool.cc).
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>
#include "perf_kernels.h"

namespace llk {

// threads for the memory-bound kernels (= the BLAS thread count, set by setThreads)
inline int g_threads = 1;
constexpr int64_t GRAIN = 1 << 16;  // elements per thread below which splitting does not pay

// Runs f(begin, end) over [0, n) on up to g_threads threads, in chunks of at least `grain` items
// (about 4 per thread) handed out by the persistent pool of threadpool.cc; the calling thread works
// too. Small work stays on the calling thread.
template <class F> void parallelFor(int64_t n, int64_t grain, F f) {
  const int64_t w = std::min<int64_t>(g_threads, grain > 0 ? n / grain : n);
  if (w <= 1) { if (n > 0) f(int64_t(0), n); return; }
  parallelRun(n, std::max<int64_t>(grain, (n + 4 * w - 1) / (4 * w)), int(w), f);
}

// Runs f(i, w) for every i in [0, n) on up to `workers` threads (w = the worker's index; the calling
// thread is worker 0), items handed out dynamically so uneven items balance. Returns the worker count.
template <class F> int forEachDynamic(int64_t n, int workers, F f) {
  workers = int(std::max<int64_t>(1, std::min<int64_t>(workers, n)));
  if (workers <= 1) { for (int64_t i = 0; i < n; i++) f(i, 0); return 1; }
  std::atomic<int64_t> next{0};
  auto run = [&](int w) { for (int64_t i; (i = next.fetch_add(1)) < n;) f(i, w); };
  std::vector<std::thread> ths;
  for (int w = 1; w < workers; w++) ths.emplace_back(run, w);
  run(0);
  for (auto &t : ths) t.join();
  return workers;
}

}  // namespace llk
