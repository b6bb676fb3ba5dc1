// dropout kernels compiled for AVX512 (see dropout_impl.h).
#define XPGRAD_ISA avx512
#include "dropout_impl.h"
