// cross_entropy kernels compiled for AVX512 (see cross_entropy_impl.h).
#define XPGRAD_ISA avx512
#include "cross_entropy_impl.h"
