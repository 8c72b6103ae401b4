// Scalar index arithmetic: int_binary and cumsum (integer_ops/index_math.py).
// Every result is computed in int64 (|a · b| < 2^62 for int32 operands) and
// saturated to int32.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

// One loop per op code, so the switch is outside the loop and each loop vectorizes.
template <typename A, typename B, typename F>
void Each(const A* a, const B* b, int64_t n, int32_t* y, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = Saturate<int32_t>(f(int64_t{a[i]}, int64_t{b[i]}));
}

}  // namespace

template <typename A, typename B>
void int_binary_scalar(const A* a, const B* b, int64_t n, int op, int32_t* y) {
  switch (op) {  // the codes of INT_BINARY_OPS
    case 0: return Each(a, b, n, y, [](int64_t u, int64_t v) { return u + v; });
    case 1: return Each(a, b, n, y, [](int64_t u, int64_t v) { return u - v; });
    case 2: return Each(a, b, n, y, [](int64_t u, int64_t v) { return u * v; });
    case 3: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u == v; });
    case 4: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u != v; });
    case 5: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u < v; });
    case 6: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u <= v; });
    case 7: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u > v; });
    case 8: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u >= v; });
    case 9: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u != 0 && v != 0; });
    case 10: return Each(a, b, n, y, [](int64_t u, int64_t v) -> int64_t { return u != 0 || v != 0; });
    case 11: return Each(a, b, n, y, [](int64_t u, int64_t v) { return u < v ? u : v; });
    case 12: return Each(a, b, n, y, [](int64_t u, int64_t v) { return u > v ? u : v; });
  }  // other codes: nothing (the op's checks and the bindings allow only these)
}

template <typename T>
void cumsum_scalar(const T* x, int64_t outer, int64_t len, int64_t inner, int32_t* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t sum = 0;
      for (int64_t l = 0; l < len; ++l) {
        const int64_t at = (o * len + l) * inner + i;
        sum += x[at];
        y[at] = Saturate<int32_t>(sum);
      }
    }
  }
}

#define IE_INT_BINARY(A, B) template void int_binary_scalar<A, B>(const A*, const B*, int64_t, int, int32_t*);
#define IE_INDEX_MATH(T)                                                                      \
  IE_INT_BINARY(T, int8_t)                                                                    \
  IE_INT_BINARY(T, uint8_t)                                                                   \
  IE_INT_BINARY(T, int16_t)                                                                   \
  IE_INT_BINARY(T, int32_t)                                                                   \
  template void cumsum_scalar<T>(const T*, int64_t, int64_t, int64_t, int32_t*);
IE_INDEX_MATH(int8_t)
IE_INDEX_MATH(uint8_t)
IE_INDEX_MATH(int16_t)
IE_INDEX_MATH(int32_t)
#undef IE_INDEX_MATH
#undef IE_INT_BINARY

}  // namespace intedge::kernels
