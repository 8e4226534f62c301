// OpenBLAS's thread count under concurrent callers: see SingleThreadedBlas in blas.h.
#include <algorithm>
#include <mutex>
#include "blas.h"

namespace llk {
namespace {
std::mutex g_mutex;
int g_configured = 0;  // 0: not read yet (OpenBLAS's default until setThreads)
int g_sections = 0;    // open SingleThreadedBlas sections, over all threads

// under g_mutex; outside any section OpenBLAS's count is the configured one
int configuredLocked() {
  if (g_configured == 0) g_configured = std::max(1, openblas_get_num_threads());
  return g_configured;
}
}  // namespace

int blasThreads() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return configuredLocked();
}

void setBlasThreads(int n) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_configured = std::max(1, n);
  if (g_sections > 0) return;
  openblas_set_num_threads(g_configured);
  g_configured = std::max(1, openblas_get_num_threads());  // OpenBLAS caps it at its build's maximum
}

SingleThreadedBlas::SingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(g_mutex);
  configuredLocked();
  if (g_sections++ == 0) openblas_set_num_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (--g_sections == 0) {
    openblas_set_num_threads(g_configured);
    g_configured = std::max(1, openblas_get_num_threads());
  }
}
}  // namespace llk
