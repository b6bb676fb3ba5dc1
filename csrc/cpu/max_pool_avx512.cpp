// Max pooling kernels compiled for AVX512 (see max_pool_impl.h).
#define XPGRAD_ISA avx512
#include "max_pool_impl.h"
