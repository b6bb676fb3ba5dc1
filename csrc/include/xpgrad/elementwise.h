// out[i] = f(in₁[i], in₂[i], …) over n elements, vectorised with simd::Vec and split over
// threads for large n. Used by the elementwise kernel families (activations, optimizers).
#pragma once
#include <cstdint>

#include "xpgrad/parallel.h"
#include "xpgrad/simd.h"

namespace xpgrad::cpu {

// body(i, count) over vector strips of [0, n), the strips split over threads for large n.
// Each chunk runs a private copy of body: with its captures (pointers, broadcast constants,
// flags; capture by value) in a local object the compiler keeps them in registers and can
// unswitch the loop, instead of reloading them through the closure after every store.
template <class V, class Body>
inline void parallel_strips(int64_t n, int64_t grain, const Body& body) {
  parallel_for(n, grain, [&body](int64_t b, int64_t e) {
    Body local = body;
    simd::strips<V>(e - b, [&local, b](int64_t i, int c) { local(b + i, c); });
  }, 16);
}

template <class T, class F, class... In>
inline void map_elementwise(T* out, int64_t n, int64_t grain, F f, const In*... in) {
  using V = simd::Vec<T>;
  parallel_strips<V>(n, grain, [=](int64_t i, int c) { simd::store_n(f(simd::load_n<V>(in + i, c)...), out + i, c); });
}

}  // namespace xpgrad::cpu
