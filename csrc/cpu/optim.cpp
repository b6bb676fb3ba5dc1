// optim kernels, portable C++ build (see optim_impl.h).
#define XPGRAD_ISA portable
#include "optim_impl.h"
