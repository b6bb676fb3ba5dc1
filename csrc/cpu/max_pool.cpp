// Max pooling kernels, portable C++ build (see max_pool_impl.h).
#define XPGRAD_ISA portable
#include "max_pool_impl.h"
