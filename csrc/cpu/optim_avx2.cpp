// optim kernels compiled for AVX2 (see optim_impl.h).
#define XPGRAD_ISA avx2
#include "optim_impl.h"
