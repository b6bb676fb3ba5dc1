// softmax kernels compiled for AVX2 (see softmax_impl.h).
#define XPGRAD_ISA avx2
#include "softmax_impl.h"
