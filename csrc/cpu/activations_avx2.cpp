// Activation kernels compiled for AVX2 (see activations_impl.h).
#define XPGRAD_ISA avx2
#include "activations_impl.h"
