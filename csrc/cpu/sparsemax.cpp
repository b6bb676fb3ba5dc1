// sparsemax kernels, portable C++ build (see sparsemax_impl.h).
#define XPGRAD_ISA portable
#include "sparsemax_impl.h"
