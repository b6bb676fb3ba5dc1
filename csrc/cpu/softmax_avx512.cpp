// softmax kernels compiled for AVX512 (see softmax_impl.h).
#define XPGRAD_ISA avx512
#include "softmax_impl.h"
