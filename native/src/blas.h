// OpenBLAS: cblas_sgemm and the thread-count functions.
#pragma once
#include <cblas.h>

extern "C" {
// declared in OpenBLAS's cblas.h on Debian, repeated so other cblas headers also work
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
}

namespace llk {
// OpenBLAS's thread count is process-wide, and the addon's callers may be several threads at once
// (worker_threads). The kernels whose own threads each call single-threaded sgemm run inside a
// SingleThreadedBlas section: the first section to begin sets OpenBLAS to 1 thread, the last to end
// restores the count setThreads configured. (Each section saving and restoring the count itself let
// one that began inside another save 1, leaving OpenBLAS at 1 thread for the rest of the process.)

// The configured count: the last setThreads, else OpenBLAS's own default. Not 1 inside a section.
int blasThreads();
// setThreads' BLAS half: applied now, or when the last open section ends.
void setBlasThreads(int n);

class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas &) = delete;
  SingleThreadedBlas &operator=(const SingleThreadedBlas &) = delete;
};
}  // namespace llk
