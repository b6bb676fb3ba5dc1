#include "xpgrad/cpu_features.h"

#include <cctype>
#include <cstdlib>

namespace xpgrad {

namespace {
bool same_name(const char* given, const char* name) {  // ignoring case
  for (; *given && *name; ++given, ++name)
    if (std::tolower(static_cast<unsigned char>(*given)) != *name) return false;
  return *given == *name;
}

// XPGRAD_ISA=portable|avx2|avx512 (any case) caps the ISA; an unknown value leaves the best one
// (xpgrad.backends.cpu warns about it).
Isa pick_isa() {
  Isa best = detect_isa();
  const char* want = std::getenv("XPGRAD_ISA");
  if (!want) return best;
  Isa asked = best;
  if (same_name(want, "portable")) asked = Isa::Portable;
  else if (same_name(want, "avx2")) asked = Isa::Avx2;
  else if (same_name(want, "avx512")) asked = Isa::Avx512;
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
