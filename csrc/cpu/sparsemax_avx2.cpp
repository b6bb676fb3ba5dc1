// sparsemax kernels compiled for AVX2 (see sparsemax_impl.h).
#define XPGRAD_ISA avx2
#include "sparsemax_impl.h"
