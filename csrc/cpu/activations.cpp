// Activation kernels, portable C++ build (see activations_impl.h).
#define XPGRAD_ISA portable
#include "activations_impl.h"
