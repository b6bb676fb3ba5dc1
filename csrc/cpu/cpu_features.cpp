#include "xpgrad/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace xpgrad {

namespace {
Isa pick_isa() {
  Isa best = detect_isa();
  const char* want = std::getenv("XPGRAD_ISA");
  if (!want) return best;
  Isa asked = best;
  if (std::strcmp(want, "portable") == 0) asked = Isa::Portable;
  else if (std::strcmp(want, "avx2") == 0) asked = Isa::Avx2;
  else if (std::strcmp(want, "avx512") == 0) asked = Isa::Avx512;
  return asked < best ? asked : best;  // never above what the CPU supports
}
}  // namespace

Isa active_isa() {
  static const Isa isa = pick_isa();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace xpgrad
