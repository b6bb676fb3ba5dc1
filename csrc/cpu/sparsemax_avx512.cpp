// sparsemax kernels compiled for AVX512 (see sparsemax_impl.h).
#define XPGRAD_ISA avx512
#include "sparsemax_impl.h"
