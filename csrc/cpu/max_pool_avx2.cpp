// Max pooling kernels compiled for AVX2 (see max_pool_impl.h).
#define XPGRAD_ISA avx2
#include "max_pool_impl.h"
