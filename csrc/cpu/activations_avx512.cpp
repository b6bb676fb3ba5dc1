// Activation kernels compiled for AVX512 (see activations_impl.h).
#define XPGRAD_ISA avx512
#include "activations_impl.h"
