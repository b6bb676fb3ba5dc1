// How the row kernels (softmax, cross-entropy, sparsemax) see one row of a (rows x k) array.
// A row slot is `GROUP` threads (4..32 within a warp, or a whole block); `Row` gives them the
// passes the ops are written with — max, sums (reduced over the group, every thread gets the
// result) and an elementwise write — over NIN aligned rows (x, or y and gy). With CAP > 0 each
// thread holds CAP elements of each row in registers, loaded once with 16-byte accesses when the
// rows are aligned, so the op reads memory once however many passes it makes; with CAP = 0 each
// pass reads global memory again. row_plan (cuda_launch.h) picks GROUP and CAP for (rows, k).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "common.cuh"

namespace xpgrad::cuda {

// The compile-time shape of a row plan: GROUP threads per row, CAP register elements per
// thread, THREADS per block.
template <int G, int C, int TH> struct RowShape {
  static constexpr int kGroup = G, kCap = C, kThreads = TH;
};

// Scratch for group reductions of up to 3 values per warp of the largest block.
template <typename T> struct RowScratch {
  Acc<T, 3> slot[kRowBlockThreads / 32];
  template <int N> __device__ Acc<T, N>* as() { return reinterpret_cast<Acc<T, N>*>(slot); }
};

// This thread's row in the grid-stride loop over rows. Groups narrower than a warp keep looping
// while the warp's first row exists, so every shuffle sees the whole warp; `k(rows, k)` is 0 for
// a group past the last row, which then reads and writes nothing.
template <typename S> struct RowSlot {
  static constexpr int kRowsPerBlock = S::kThreads / S::kGroup;
  int lane;
  int warp_offset;  // rows between the warp's first row and this group's
  int64_t row;
  __device__ RowSlot()
      : lane(threadIdx.x % S::kGroup),
        warp_offset(S::kGroup < 32 ? (threadIdx.x % 32) / S::kGroup : 0),
        row(int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / S::kGroup) {}
  __device__ bool more(int64_t rows) const { return row - warp_offset < rows; }
  __device__ void next() { row += int64_t(gridDim.x) * kRowsPerBlock; }
  __device__ int64_t k(int64_t rows, int64_t k) const { return row < rows ? k : 0; }
};

// Whether any thread of the row slot's warp still wants to iterate (loop exits stay uniform).
__device__ __forceinline__ bool warp_any(bool pred) { return __any_sync(0xffffffffu, pred); }

// 4 consecutive floats in one 16-byte access (register plans exist for float only).
__device__ __forceinline__ void load4(const float* p, float* v) {
  const float4 q = *reinterpret_cast<const float4*>(p);
  v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
}
__device__ __forceinline__ void store4(float* p, const float* v) {
  *reinterpret_cast<float4*>(p) = float4{v[0], v[1], v[2], v[3]};
}

// f(j, x) or f(j, y, gy): the element function at column j of the NIN rows' values v.
template <int NIN, typename T, typename F>
__device__ __forceinline__ auto at(const F& f, int64_t j, const T* v) {
  if constexpr (NIN == 1) return f(j, v[0]);
  else return f(j, v[0], v[1]);
}

// What both kinds of Row share: the row's length (0 past the last row), this thread's lane,
// the reduction scratch, and the passes the ops are written with, on top of Derived::reduce.
template <typename T, typename S, typename Derived> class RowPasses {
  __device__ const Derived& self() const { return static_cast<const Derived&>(*this); }
  template <typename Op, typename F> __device__ T fold(T init, Op op, const F& f) const {
    return self().template reduce<1>(Acc<T, 1>{{init}}, op,
                                      [&](int64_t j, auto... v) { return Acc<T, 1>{{f(j, v...)}}; })
        .v[0];
  }

 protected:
  int64_t k_;
  int lane_;
  RowScratch<T>* scratch_;
  __device__ RowPasses(int64_t k, int lane, RowScratch<T>* scratch) : k_(k), lane_(lane), scratch_(scratch) {}

 public:
  __device__ int64_t size() const { return k_; }
  template <typename F> __device__ T max(const F& f) const { return fold(neg_inf<T>(), MaxOp<T, 1>{}, f); }
  __device__ T max() const {  // of the (single) row's values, NaNs skipped
    return max([](int64_t, T v) { return v; });
  }
  __device__ T max_keep_nan() const {  // of the (single) row's values, NaN if any is
    return fold(neg_inf<T>(), MaxOp<T, 1, true>{}, [](int64_t, T v) { return v; });
  }
  template <typename F> __device__ T sum(const F& f) const { return fold(T(0), SumOp<T, 1>{}, f); }
  // N sums at once: f returns Acc<T, N>.
  template <int N, typename F> __device__ Acc<T, N> sums(const F& f) const {
    return self().template reduce<N>(Acc<T, N>{}, SumOp<T, N>{}, f);
  }
  // Sum per-thread partials (e.g. accumulated during a write) over the group.
  template <int N> __device__ Acc<T, N> group_sum(Acc<T, N> a) const {
    return group_reduce<S::kGroup>(a, SumOp<T, N>{}, scratch_->template as<N>());
  }
};

template <typename T, typename S, int NIN, int CAP = S::kCap> class Row;

// Registers: thread `lane` holds columns j = (c·GROUP + lane)·4 + e, c < CAP/4, e < 4.
template <typename T, typename S, int NIN, int CAP>
class Row : public RowPasses<T, S, Row<T, S, NIN, CAP>> {
  static_assert(std::is_same_v<T, float>, "register rows are fp32 (row_plan)");
  using Base = RowPasses<T, S, Row<T, S, NIN, CAP>>;
  using Base::k_, Base::lane_, Base::scratch_;
  static constexpr int kChunks = CAP / kRowVec;
  T v_[CAP][NIN];
  bool vec_;

  __device__ int64_t first(int c) const { return (int64_t(c) * S::kGroup + lane_) * kRowVec; }

 public:
  // src: the NIN row pointers; vec: every row starts 16-byte aligned and k % 4 == 0.
  __device__ Row(const T* const (&src)[NIN], int64_t k, int lane, bool vec, RowScratch<T>* scratch)
      : Base(k, lane, scratch), vec_(vec) {
#pragma unroll
    for (int n = 0; n < NIN; ++n) {
      const T* p = src[n];
#pragma unroll
      for (int c = 0; c < kChunks; ++c) {
        const int64_t j = first(c);
        T q[kRowVec];
        if (vec_ && j < k_) {
          load4(p + j, q);
        } else {
#pragma unroll
          for (int e = 0; e < kRowVec; ++e) q[e] = j + e < k_ ? p[j + e] : T(0);
        }
#pragma unroll
        for (int e = 0; e < kRowVec; ++e) v_[c * kRowVec + e][n] = q[e];
      }
    }
  }

  // op-fold of f over the row, then over the group.
  template <int N, typename Op, typename F>
  __device__ Acc<T, N> reduce(Acc<T, N> a, Op op, const F& f) const {
#pragma unroll
    for (int c = 0; c < kChunks; ++c)
#pragma unroll
      for (int e = 0; e < kRowVec; ++e) {
        const int64_t j = first(c) + e;
        if (j < k_) a = op(a, at<NIN>(f, j, v_[c * kRowVec + e]));
      }
    return group_reduce<S::kGroup>(a, op, scratch_->template as<N>());
  }

  // dst[j] = f(j, values at j) for this row (f sees only columns j < k).
  template <typename F> __device__ void write(T* dst, const F& f) const {
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t j = first(c);
      if (j >= k_) break;
      T q[kRowVec];
#pragma unroll
      for (int e = 0; e < kRowVec; ++e) q[e] = j + e < k_ ? at<NIN>(f, j + e, v_[c * kRowVec + e]) : T(0);
      if (vec_) {
        store4(dst + j, q);
      } else {
#pragma unroll
        for (int e = 0; e < kRowVec; ++e)
          if (j + e < k_) dst[j + e] = q[e];
      }
    }
  }
};

// Global memory: each pass strides over the row again.
template <typename T, typename S, int NIN>
class Row<T, S, NIN, 0> : public RowPasses<T, S, Row<T, S, NIN, 0>> {
  using Base = RowPasses<T, S, Row<T, S, NIN, 0>>;
  using Base::k_, Base::lane_, Base::scratch_;
  const T* src_[NIN];

 public:
  __device__ Row(const T* const (&src)[NIN], int64_t k, int lane, bool, RowScratch<T>* scratch)
      : Base(k, lane, scratch) {
#pragma unroll
    for (int n = 0; n < NIN; ++n) src_[n] = src[n];
  }

  template <int N, typename Op, typename F>
  __device__ Acc<T, N> reduce(Acc<T, N> a, Op op, const F& f) const {
    for (int64_t j = lane_; j < k_; j += S::kGroup) {
      T v[NIN];
#pragma unroll
      for (int n = 0; n < NIN; ++n) v[n] = src_[n][j];
      a = op(a, at<NIN>(f, j, v));
    }
    return group_reduce<S::kGroup>(a, op, scratch_->template as<N>());
  }

  template <typename F> __device__ void write(T* dst, const F& f) const {
    for (int64_t j = lane_; j < k_; j += S::kGroup) {
      T v[NIN];
#pragma unroll
      for (int n = 0; n < NIN; ++n) v[n] = src_[n][j];
      dst[j] = at<NIN>(f, j, v);
    }
  }
};

// Whether rows of k elements starting at these pointers allow 16-byte accesses.
inline bool rows_vectorizable(int64_t k, std::initializer_list<const void*> pointers) {
  bool ok = k % kRowVec == 0;
  for (const void* p : pointers) ok = ok && reinterpret_cast<uintptr_t>(p) % 16 == 0;
  return ok;
}

// Call launch(blocks, RowShape<...>{}) for the plan row_plan picks (register plans exist for
// float only; NIN = 2 rows stop at CAP 16 in a block); the launch does the <<<>>> call with
// the shape's kThreads.
template <typename T, int NIN, typename Launch>
cudaError_t launch_rows(int64_t rows, int64_t k, Launch launch) {
  const RowPlan p = row_plan(rows, k, std::is_same_v<T, float>, NIN);
  if (p.blocks == 0 || k == 0) return cudaSuccess;
  const auto blocks = unsigned(p.blocks);
  auto run = [&](auto shape) {
    launch(blocks, shape);
    return cudaGetLastError();
  };
  if constexpr (std::is_same_v<T, float>) {
    if (p.cap == kRowVec && p.group <= 32) {
      switch (p.group) {
        case 4: return run(RowShape<4, kRowVec, kThreads>{});
        case 8: return run(RowShape<8, kRowVec, kThreads>{});
        case 16: return run(RowShape<16, kRowVec, kThreads>{});
        default: return run(RowShape<32, kRowVec, kThreads>{});
      }
    }
    if (p.group == 32) {
      switch (p.cap) {
        case 8: return run(RowShape<32, 8, kThreads>{});
        case 16: return run(RowShape<32, 16, kThreads>{});
        default: return run(RowShape<32, 32, kThreads>{});
      }
    }
    if (p.cap > 0) {
      constexpr int B = kRowBlockThreads;
      switch (p.cap) {
        case 4: return run(RowShape<B, 4, B>{});
        case 8: return run(RowShape<B, 8, B>{});
        default:
          if constexpr (NIN == 1) {
            if (p.cap == 32) return run(RowShape<B, 32, B>{});
          }
          return run(RowShape<B, 16, B>{});
      }
    }
  }
  if (p.group == 32) return run(RowShape<32, 0, kThreads>{});
  return run(RowShape<kThreads, 0, kThreads>{});
}

}  // namespace xpgrad::cuda
