// softmax kernels, portable C++ build (see softmax_impl.h).
#define XPGRAD_ISA portable
#include "softmax_impl.h"
