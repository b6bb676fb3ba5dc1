// cross_entropy kernels, portable C++ build (see cross_entropy_impl.h).
#define XPGRAD_ISA portable
#include "cross_entropy_impl.h"
