// dropout kernels compiled for AVX2 (see dropout_impl.h).
#define XPGRAD_ISA avx2
#include "dropout_impl.h"
