// Runtime ISA dispatch. Each kernel family is a struct of function pointers Kernels<T>; its
// implementation header is compiled once per ISA (csrc/cpu/<family>.cpp, _avx2.cpp,
// _avx512.cpp with XPGRAD_ISA = portable / avx2 / avx512), each defining the table
// xpgrad::cpu::<isa>::<name>. kernels_for<T>() picks the table for active_isa() (checked once).
#pragma once
#include <type_traits>

#include "xpgrad/cpu_features.h"

// The per-ISA tables must be constant-initialised: a dynamic initialiser in an *_avx512.cpp file
// is compiled for AVX-512 and runs when the module is imported, on every CPU (it crashed xpgrad._C
// on CPUs without AVX-512). This makes the compiler refuse one.
#if defined(__cpp_constinit)
#define XPGRAD_CONSTINIT constinit
#elif defined(__clang__)
#define XPGRAD_CONSTINIT [[clang::require_constant_initialization]]
#elif defined(__GNUC__)
#define XPGRAD_CONSTINIT __constinit
#else
#define XPGRAD_CONSTINIT
#endif

namespace xpgrad::cpu {

template <template <class> class Kernels>
struct KernelTable {
  Kernels<float> f32;
  Kernels<double> f64;
  template <class T>
  const Kernels<T>& get() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else return f64;
  }
};

template <class Table>
const Table& pick_table(const Table& portable, const Table& avx2, const Table& avx512) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512;
    case Isa::Avx2: return avx2;
    default: return portable;
  }
}

}  // namespace xpgrad::cpu

// Off x86 only the portable tables exist; the other names alias them.
#ifdef XPGRAD_X86
#define XPGRAD_NS_AVX2 avx2
#define XPGRAD_NS_AVX512 avx512
#else
#define XPGRAD_NS_AVX2 portable
#define XPGRAD_NS_AVX512 portable
#endif

// Declares the per-ISA tables of a family and name<T>() returning the active one.
#define XPGRAD_DECLARE_KERNELS(Kernels, name)                                                 \
  namespace portable { extern const KernelTable<Kernels> name; }                             \
  namespace XPGRAD_NS_AVX2 { extern const KernelTable<Kernels> name; }                       \
  namespace XPGRAD_NS_AVX512 { extern const KernelTable<Kernels> name; }                     \
  template <class T>                                                                          \
  const Kernels<T>& name() {                                                                  \
    static const KernelTable<Kernels>& table =                                                \
        pick_table(portable::name, XPGRAD_NS_AVX2::name, XPGRAD_NS_AVX512::name);             \
    return table.template get<T>();                                                           \
  }
