// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), plus its thread-count control and the
// identity of the kernels it chose (core name, build configuration).
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
// LAPACK's symmetric eigensolver (divide and conquer), which OpenBLAS ships; Fortran calling convention
// (arguments by pointer, the trailing hidden lengths of the two character arguments).
#include <stddef.h>
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
