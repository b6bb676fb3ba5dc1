// optim kernels compiled for AVX512 (see optim_impl.h).
#define XPGRAD_ISA avx512
#include "optim_impl.h"
