// Which instruction set the running CPU supports, checked once at run time.
#pragma once

namespace xpgrad {

enum class Isa { Portable = 0, Avx2 = 1, Avx512 = 2 };

inline Isa detect_isa() {
#if defined(XPGRAD_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Portable;
}

// The ISA kernels dispatch to; XPGRAD_ISA=portable|avx2|avx512 may lower it (for tests).
Isa active_isa();
const char* isa_name(Isa isa);

}  // namespace xpgrad
