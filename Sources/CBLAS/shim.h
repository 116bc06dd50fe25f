// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), plus its thread-count control and the
// identity of the kernels it chose (core name, build configuration).
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
