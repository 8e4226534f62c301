// OpenBLAS: cblas_sgemm and the thread-count functions.
#pragma once
#include <cblas.h>

extern "C" {
// declared in OpenBLAS's cblas.h on Debian, repeated so other cblas headers also work
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
}
