// dropout kernels, portable C++ build (see dropout_impl.h).
#define XPGRAD_ISA portable
#include "dropout_impl.h"
