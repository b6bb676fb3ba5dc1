// cross_entropy kernels compiled for AVX2 (see cross_entropy_impl.h).
#define XPGRAD_ISA avx2
#include "cross_entropy_impl.h"
