// intedge._runtime: the pybind11 layer.
//
// verify_ieg and Session wrap the C API (intedge.h), the same calls the
// Android bridge and intedge-bench make. The `kernels` submodule exposes each scalar
// kernel with the signature of its integer_ops counterpart, so tests and the
// reference executor can run either and compare integers with ==. It is test
// access to the oracle kernels, not the runtime's execution path (that is the
// engine behind the C API).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "intedge/intedge.h"
#include "kernels/decoder.h"
#include "kernels/kernels.h"

namespace py = pybind11;
namespace k = intedge::kernels;

namespace {

template <typename T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

std::vector<py::ssize_t> Shape(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

int64_t Inner(const py::array& a) { return a.ndim() ? a.shape(a.ndim() - 1) : 1; }

int64_t Outer(const py::array& a) { return a.ndim() ? a.size() / std::max<int64_t>(Inner(a), 1) : 1; }

// Equivalent dtypes, not the same object: '<i4' is int32 on a little-endian machine (a file's view is '<i4').
bool Is(const py::array& a, const char* dtype) {
  return py::detail::npy_api::get().PyArray_EquivTypes_(a.dtype().ptr(), py::dtype(dtype).ptr());
}

[[noreturn]] void BadDtype(const char* what, const py::array& a) {
  throw py::type_error(std::string(what) + ": unsupported dtype " + std::string(py::str(a.dtype())));
}

// Calls f(T{}) with the C++ type of a's dtype, among int8/uint8/int16/int32.
template <typename F>
auto DispatchInt(const py::array& a, const char* what, F&& f) {
  if (Is(a, "int8")) return f(int8_t{});
  if (Is(a, "uint8")) return f(uint8_t{});
  if (Is(a, "int16")) return f(int16_t{});
  if (Is(a, "int32")) return f(int32_t{});
  BadDtype(what, a);
}

template <typename F>
auto DispatchOut(const std::string& dtype, F&& f) {
  if (dtype == "int8") return f(int8_t{});
  if (dtype == "int16") return f(int16_t{});
  if (dtype == "int32") return f(int32_t{});
  throw py::type_error("unsupported output dtype " + dtype);
}

// Allocates the [..., N] int8/int16 output of a qlinear and lets `gemm` fill it.
template <typename F>
py::array QLinearOutput(const py::array& x, int64_t N, const std::string& out_dtype, F&& gemm) {
  auto shape = Shape(x);
  shape.back() = N;
  return DispatchOut(out_dtype, [&](auto t) -> py::array {
    using Out = std::decay_t<decltype(t)>;
    if constexpr (std::is_same_v<Out, int32_t>) {
      throw py::type_error("qlinear output must be int8 or int16");
    } else {
      py::array_t<Out> y(shape);
      gemm(y.mutable_data());
      return y;
    }
  });
}

const int32_t* OptionalBias(const py::object& bias, Arr<int32_t>* storage) {
  if (bias.is_none()) return nullptr;
  *storage = bias.cast<Arr<int32_t>>();
  return storage->data();
}

py::array QLinear(const Arr<int8_t>& x, const Arr<int8_t>& w, const py::object& bias, const Arr<int32_t>& mult,
                  const Arr<int8_t>& shift, const std::string& out_dtype) {
  const int64_t K = Inner(x), M = Outer(x), N = w.shape(0);
  if (w.ndim() != 2 || w.shape(1) != K || mult.size() != N || shift.size() != N) throw py::value_error("shape mismatch");
  Arr<int32_t> b;
  const int32_t* bp = OptionalBias(bias, &b);
  return QLinearOutput(x, N, out_dtype, [&](auto* y) {
    k::qgemm_w8a8_scalar(x.data(), w.data(), bp, mult.data(), shift.data(), M, N, K, y);
  });
}

py::array QLinearW4(const Arr<int8_t>& x, const Arr<uint8_t>& packed, const Arr<int8_t>& gscale, int64_t group,
                    const py::object& bias, const Arr<int32_t>& mult, const Arr<int8_t>& shift,
                    const std::string& out_dtype) {
  const int64_t K = Inner(x), M = Outer(x), N = packed.shape(0);
  if (packed.ndim() != 2 || packed.shape(1) * 2 != K || group <= 0 || K % group ||
      gscale.size() != N * (K / group) || mult.size() != N || shift.size() != N) {
    throw py::value_error("shape mismatch");
  }
  Arr<int32_t> b;
  const int32_t* bp = OptionalBias(bias, &b);
  return QLinearOutput(x, N, out_dtype, [&](auto* y) {
    k::qgemm_w4a8_scalar(x.data(), packed.data(), gscale.data(), group, bp, mult.data(), shift.data(), M, N, K, y);
  });
}

py::array QMatMul(const py::array& a, const Arr<int8_t>& b, bool transpose_b, int32_t mult, int shift,
                  const std::string& out_dtype) {
  if (a.ndim() < 2 || a.ndim() != b.ndim()) throw py::value_error("qmatmul needs equal ranks >= 2");
  const int64_t M = a.shape(a.ndim() - 2), K = a.shape(a.ndim() - 1);
  const int64_t N = transpose_b ? b.shape(b.ndim() - 2) : b.shape(b.ndim() - 1);
  const int64_t B = a.size() / std::max<int64_t>(M * K, 1);
  auto shape = Shape(a);
  shape.back() = N;
  return DispatchInt(a, "a", [&](auto ta) -> py::array {
    using A = std::decay_t<decltype(ta)>;
    if constexpr (std::is_same_v<A, int8_t> || std::is_same_v<A, uint8_t>) {
      Arr<A> ac = a.cast<Arr<A>>();
      return DispatchOut(out_dtype, [&](auto t) -> py::array {
        using Out = std::decay_t<decltype(t)>;
        py::array_t<Out> y(shape);
        k::qmatmul_scalar<A, Out>(ac.data(), b.data(), transpose_b, B, M, N, K, mult, shift, y.mutable_data());
        return y;
      });
    } else {
      BadDtype("a", a);
    }
  });
}

py::array Shiftmax(const py::array& x, int32_t mult, int shift, const py::object& keep) {
  Arr<uint8_t> kp = keep.is_none() ? Arr<uint8_t>() : keep.cast<Arr<uint8_t>>();
  if (!keep.is_none() && kp.size() != x.size()) throw py::value_error("mask must have x's shape");
  py::array_t<uint8_t> y(Shape(x));
  auto run = [&](auto t) -> py::array {
    using In = std::decay_t<decltype(t)>;
    if constexpr (std::is_same_v<In, int8_t> || std::is_same_v<In, int32_t>) {
      Arr<In> xc = x.cast<Arr<In>>();
      k::shiftmax_scalar<In>(xc.data(), Inner(x), keep.is_none() ? nullptr : kp.data(), Outer(x), Inner(x), mult,
                             shift, y.mutable_data());
      return y;
    } else {
      BadDtype("x", x);
    }
  };
  return DispatchInt(x, "x", run);
}

py::array ShiftGelu(const Arr<int8_t>& x, int32_t x0, int32_t mult, int shift) {
  py::array_t<int8_t> y(Shape(x));
  k::shiftgelu_scalar(x.data(), Outer(x), Inner(x), x0, mult, shift, y.mutable_data());
  return y;
}

py::array LambdaShiftGelu(const Arr<int8_t>& x, int32_t slope_mult, int slope_shift, const Arr<int32_t>& mult,
                          const Arr<int8_t>& shift) {
  if (x.ndim() < 1) throw py::value_error("lambda_shiftgelu needs rank >= 1");
  if (mult.size() != shift.size() || (mult.size() != 1 && mult.size() != Inner(x)))
    throw py::value_error("multiplier and shift need 1 or C entries");
  py::array_t<int8_t> y(Shape(x));
  k::lambda_shiftgelu_scalar(x.data(), Outer(x), Inner(x), slope_mult, slope_shift, mult.data(), shift.data(),
                             mult.size(), y.mutable_data());
  return y;
}

py::array LookupRequant(const py::array& x, const py::array& table, const Arr<int32_t>& mult,
                        const Arr<int8_t>& shift) {
  if (!Is(x, "int8") || !Is(table, "int32")) throw py::type_error("lookup_requant takes an int8 x and an int32 table");
  if (table.ndim() != 1 || table.size() != 256) throw py::value_error("table must be [256]");
  if (x.ndim() < 1) throw py::value_error("lookup_requant needs rank >= 1");
  if (mult.size() != shift.size() || (mult.size() != 1 && mult.size() != Inner(x)))
    throw py::value_error("multiplier and shift need 1 or C entries");
  py::array_t<int8_t> y(Shape(x));
  k::table_requant_scalar(x.cast<Arr<int8_t>>().data(), Outer(x), Inner(x), table.cast<Arr<int32_t>>().data(),
                          mult.data(), shift.data(), mult.size(), y.mutable_data());
  return y;
}

template <typename T>
constexpr bool kActivation = std::is_same_v<T, int8_t> || std::is_same_v<T, int16_t>;

py::array ILayerNorm(const py::array& x, const Arr<int32_t>& mult, const Arr<int64_t>& bias, int shift,
                     const std::string& out_dtype, bool rms) {
  if (mult.size() != Inner(x) || bias.size() != Inner(x)) throw py::value_error("need one constant per channel");
  return DispatchInt(x, "x", [&](auto ti) -> py::array {
    using In = std::decay_t<decltype(ti)>;
    return DispatchOut(out_dtype, [&](auto to) -> py::array {
      using Out = std::decay_t<decltype(to)>;
      if constexpr (!kActivation<In> || !kActivation<Out>) {
        throw py::type_error("ilayernorm takes int8/int16 to int8/int16");
      } else {
        Arr<In> xc = x.cast<Arr<In>>();
        py::array_t<Out> y(Shape(x));
        k::ilayernorm_scalar<In, Out>(xc.data(), Outer(x), Inner(x), rms, mult.data(), bias.data(), shift,
                                      y.mutable_data());
        return y;
      }
    });
  });
}

py::array Requant(const py::array& x, int32_t mult, int shift, const std::string& out_dtype) {
  return DispatchInt(x, "x", [&](auto ti) -> py::array {
    using In = std::decay_t<decltype(ti)>;
    Arr<In> xc = x.cast<Arr<In>>();
    return DispatchOut(out_dtype, [&](auto to) -> py::array {
      using Out = std::decay_t<decltype(to)>;
      if constexpr (std::is_same_v<In, uint8_t> || std::is_same_v<Out, int32_t>) {
        throw py::type_error("requant takes int8/int16/int32 to int8/int16");
      } else {
        py::array_t<Out> y(Shape(x));
        k::requant_scalar<In, Out>(xc.data(), x.size(), mult, shift, y.mutable_data());
        return y;
      }
    });
  });
}

py::array QAdd(const py::array& a, const py::array& b, int32_t ma, int32_t mb, int shift, const std::string& out) {
  if (a.size() != b.size()) throw py::value_error("qadd kernel takes equal shapes (broadcast beforehand)");
  return DispatchInt(a, "a", [&](auto ta) -> py::array {
    return DispatchInt(b, "b", [&](auto tb) -> py::array {
      return DispatchOut(out, [&](auto to) -> py::array {
        using A = std::decay_t<decltype(ta)>;
        using B = std::decay_t<decltype(tb)>;
        using Out = std::decay_t<decltype(to)>;
        if constexpr (kActivation<A> && kActivation<B> && kActivation<Out>) {
          Arr<A> ac = a.cast<Arr<A>>();
          Arr<B> bc = b.cast<Arr<B>>();
          py::array_t<Out> y(Shape(a));
          k::qadd_scalar<A, B, Out>(ac.data(), bc.data(), a.size(), ma, mb, shift, y.mutable_data());
          return y;
        } else {
          throw py::type_error("qadd takes int8/int16");
        }
      });
    });
  });
}

// [outer, len, inner] view of x around `axis`.
void AxisView(const py::array& x, int axis, int64_t* outer, int64_t* len, int64_t* inner) {
  if (axis < 0 || axis >= x.ndim()) throw py::value_error("axis out of range");
  *outer = *inner = 1;
  for (int i = 0; i < axis; ++i) *outer *= x.shape(i);
  for (int i = axis + 1; i < x.ndim(); ++i) *inner *= x.shape(i);
  *len = x.shape(axis);
}

std::vector<py::ssize_t> DropAxis(const py::array& x, int axis) {
  auto shape = Shape(x);
  shape.erase(shape.begin() + axis);
  return shape;
}

py::array MeanPool(const py::array& x, int axis, int32_t mult, int shift, const std::string& out_dtype) {
  int64_t outer, len, inner;
  AxisView(x, axis, &outer, &len, &inner);
  return DispatchInt(x, "x", [&](auto ti) -> py::array {
    return DispatchOut(out_dtype, [&](auto to) -> py::array {
      using In = std::decay_t<decltype(ti)>;
      using Out = std::decay_t<decltype(to)>;
      if constexpr (!std::is_same_v<In, int32_t> && kActivation<Out>) {
        Arr<In> xc = x.cast<Arr<In>>();
        py::array_t<Out> y(DropAxis(x, axis));
        k::meanpool_scalar<In, Out>(xc.data(), outer, len, inner, mult, shift, y.mutable_data());
        return y;
      } else {
        throw py::type_error("meanpool takes int8/int16/uint8 to int8/int16");
      }
    });
  });
}

py::array Quantize(const Arr<float>& x, float inv_scale, const std::string& out_dtype) {
  return DispatchOut(out_dtype, [&](auto to) -> py::array {
    using Out = std::decay_t<decltype(to)>;
    if constexpr (kActivation<Out>) {
      py::array_t<Out> y(Shape(x));
      k::quantize_scalar<Out>(x.data(), x.size(), inv_scale, y.mutable_data());
      return y;
    } else {
      throw py::type_error("quantize produces int8/int16");
    }
  });
}

py::array Dequantize(const py::array& x, float scale) {
  py::array_t<float> y(Shape(x));
  DispatchInt(x, "x", [&](auto ti) {
    using In = std::decay_t<decltype(ti)>;
    Arr<In> xc = x.cast<Arr<In>>();
    k::dequantize_scalar<In>(xc.data(), x.size(), scale, y.mutable_data());
    return 0;
  });
  return y;
}

py::array Gather(const py::array& table, const Arr<int32_t>& indices) {
  if (table.ndim() != 2) throw py::value_error("table must be [V, D]");
  auto shape = Shape(indices);
  shape.push_back(table.shape(1));
  return DispatchInt(table, "table", [&](auto t) -> py::array {
    using T = std::decay_t<decltype(t)>;
    Arr<T> tc = table.cast<Arr<T>>();
    py::array_t<T> y(shape);
    const int64_t bad = k::gather_scalar<T>(tc.data(), table.shape(0), table.shape(1), indices.data(),
                                            indices.size(), y.mutable_data());
    if (bad >= 0) {
      throw py::index_error("gather index " + std::to_string(indices.data()[bad]) + " outside [0, " +
                            std::to_string(table.shape(0)) + ")");
    }
    return y;
  });
}

py::array ArgMax(const py::array& x, int axis) {
  int64_t outer, len, inner;
  AxisView(x, axis, &outer, &len, &inner);
  if (len == 0) throw py::value_error("argmax over an empty axis");
  py::array_t<int32_t> y(DropAxis(x, axis));
  DispatchInt(x, "x", [&](auto t) {
    using T = std::decay_t<decltype(t)>;
    Arr<T> xc = x.cast<Arr<T>>();
    k::argmax_scalar<T>(xc.data(), outer, len, inner, y.mutable_data());
    return 0;
  });
  return y;
}

py::array UpsampleNearest(const py::array& x, int64_t fh, int64_t fw) {
  if (x.ndim() < 2 || fh < 1 || fw < 1) throw py::value_error("upsample needs rank >= 2 and factors >= 1");
  const int64_t H = x.shape(x.ndim() - 2), W = x.shape(x.ndim() - 1);
  auto shape = Shape(x);
  shape[x.ndim() - 2] *= fh;
  shape[x.ndim() - 1] *= fw;
  return DispatchInt(x, "x", [&](auto t) -> py::array {
    using T = std::decay_t<decltype(t)>;
    Arr<T> xc = x.cast<Arr<T>>();
    py::array_t<T> y(shape);
    k::upsample_nearest_scalar<T>(xc.data(), x.size() / std::max<int64_t>(H * W, 1), H, W, fh, fw,
                                  y.mutable_data());
    return y;
  });
}

py::array Lookup(const py::array& x, const py::array& table) {
  if (!Is(x, "int8") || !Is(table, "int8")) throw py::type_error("lookup takes an int8 x and table");
  if (table.ndim() != 1 || table.size() != 256) throw py::value_error("table must be [256]");
  py::array_t<int8_t> y(Shape(x));
  k::lookup256_scalar(x.cast<Arr<int8_t>>().data(), x.size(), table.cast<Arr<int8_t>>().data(), y.mutable_data());
  return y;
}

py::array IntBinary(const py::array& a, const py::array& b, int op) {
  if (a.size() != b.size()) throw py::value_error("int_binary kernel takes equal shapes (broadcast beforehand)");
  if (op < 0 || op >= k::kIntBinaryOps) throw py::value_error("int_binary op " + std::to_string(op) + " is unknown");
  py::array_t<int32_t> y(Shape(a));
  DispatchInt(a, "a", [&](auto ta) {
    return DispatchInt(b, "b", [&](auto tb) {
      using A = std::decay_t<decltype(ta)>;
      using B = std::decay_t<decltype(tb)>;
      k::int_binary_scalar<A, B>(a.cast<Arr<A>>().data(), b.cast<Arr<B>>().data(), a.size(), op, y.mutable_data());
      return 0;
    });
  });
  return y;
}

py::array CumSum(const py::array& x, int axis) {
  int64_t outer, len, inner;
  AxisView(x, axis, &outer, &len, &inner);
  py::array_t<int32_t> y(Shape(x));
  DispatchInt(x, "x", [&](auto t) {
    using T = std::decay_t<decltype(t)>;
    k::cumsum_scalar<T>(x.cast<Arr<T>>().data(), outer, len, inner, y.mutable_data());
    return 0;
  });
  return y;
}

// An ISA this build and CPU run, by the engine's name.
intedge::Isa RunnableIsa(const std::string& name) {
  intedge::Isa isa;
  if (!intedge::ParseIsa(name, &isa)) throw py::value_error("unknown ISA '" + name + "'");
  for (intedge::Isa i : intedge::SupportedIsas()) {
    if (i == isa) return isa;
  }
  throw py::value_error("ISA '" + name + "' is not available on this CPU");
}

py::array Rope(const Arr<int8_t>& x, const Arr<int32_t>& positions, const Arr<int16_t>& cos, const Arr<int16_t>& sin,
               const std::string& isa) {
  const auto kernel = intedge::RopeFor(RunnableIsa(isa)).fn;
  if (x.ndim() < 2 || Inner(x) % 2) throw py::value_error("x must be [..., S, D] with D even");
  const int64_t S = x.shape(x.ndim() - 2), D = Inner(x);
  if (positions.ndim() != 1 || positions.shape(0) != S) throw py::value_error("positions must be [S]");
  if (cos.ndim() != 2 || cos.shape(1) != D / 2 || sin.ndim() != 2 || sin.shape(0) != cos.shape(0) ||
      sin.shape(1) != D / 2) {
    throw py::value_error("cos and sin must be [P, D/2]");
  }
  py::array_t<int8_t> y(Shape(x));
  const int64_t heads = S ? x.size() / (S * D) : 0;
  for (int64_t h = 0; h < heads; ++h) {
    if (kernel(x.data() + h * S * D, S, D, positions.data(), cos.data(), sin.data(), cos.shape(0),
               y.mutable_data() + h * S * D) >= 0) {
      throw py::index_error(intedge::RopePositionError(cos.shape(0)));
    }
  }
  return y;
}

py::array Swiglu(const Arr<int8_t>& gate, const Arr<int8_t>& up, const Arr<int16_t>& table, int32_t mult, int shift,
                 const std::string& isa) {
  const auto kernel = intedge::SwigluFor(RunnableIsa(isa)).fn;
  if (gate.size() != up.size() || Shape(gate) != Shape(up)) throw py::value_error("gate and up must have one shape");
  if (table.ndim() != 1 || table.size() != 256) throw py::value_error("table must be [256]");
  py::array_t<int8_t> y(Shape(gate));
  kernel(gate.data(), up.data(), gate.size(), table.data(), mult, shift, y.mutable_data());
  return y;
}

// A cache the op writes in place: taken as it is (a converted copy would be written instead).
int8_t* CacheData(py::array cache, const char* what) {  // a handle: the caller's array
  if (!Is(cache, "int8") || !(cache.flags() & py::array::c_style) || !cache.writeable()) {
    throw py::type_error(std::string(what) + " must be a writable C-contiguous int8 array (it is written in place)");
  }
  return static_cast<int8_t*>(cache.mutable_data());
}

py::array CachedAttention(const Arr<int8_t>& q, const Arr<int8_t>& k, const Arr<int8_t>& v,
                          const Arr<int32_t>& positions, const py::array& k_cache, const py::array& v_cache,
                          int32_t mult, int shift, int32_t out_mult, int out_shift, const std::string& isa) {
  const intedge::AttentionKernels kernels = intedge::AttentionFor(RunnableIsa(isa));
  if (q.ndim() != 3 || k.ndim() != 3 || Shape(v) != Shape(k)) throw py::value_error("q must be [Hq, S, D], k and v [Hkv, S, D]");
  intedge::AttentionShape a;
  a.q_heads = q.shape(0), a.S = q.shape(1), a.D = q.shape(2), a.kv_heads = k.shape(0);
  if (k.shape(1) != a.S || k.shape(2) != a.D || a.kv_heads < 1 || a.q_heads % a.kv_heads || a.S < 1) {
    throw py::value_error("k does not fit q");
  }
  if (positions.ndim() != 1 || positions.shape(0) != a.S) throw py::value_error("positions must be [S]");
  if (k_cache.ndim() != 3 || k_cache.shape(0) != a.kv_heads || k_cache.shape(2) != a.D || Shape(v_cache) != Shape(k_cache)) {
    throw py::value_error("the caches must be [Hkv, T, D]");
  }
  a.T = k_cache.shape(1);
  if (a.T * 255 * 128 >= (int64_t{1} << 31) || a.D * 128 * 128 >= (int64_t{1} << 31)) {
    throw py::value_error("cache length or head dim too large");
  }
  a.mult = mult, a.shift = shift, a.out_mult = out_mult, a.out_shift = out_shift;
  int8_t *kc = CacheData(k_cache, "k_cache"), *vc = CacheData(v_cache, "v_cache");
  std::string error;
  const int64_t p = intedge::CacheStart(positions.data(), a.S, a.T, &error);
  if (p < 0) throw py::index_error(error);
  intedge::WriteCache(a, k.data(), v.data(), p, kc, vc);
  py::array_t<int8_t> y(std::vector<py::ssize_t>{a.S, a.q_heads * a.D});
  std::vector<int32_t> scores;
  std::vector<uint8_t> probs;
  for (int64_t h = 0; h < a.q_heads; ++h) {
    intedge::AttendRows(kernels, a, q.data(), kc, vc, p, h, 0, a.S, &scores, &probs, y.mutable_data());
  }
  return y;
}

void VerifyIeg(const py::bytes& data) {
  const std::string_view view = data;
  char message[512];
  if (ie_verify_buffer(view.data(), view.size(), message, sizeof message) != IE_OK) throw py::value_error(message);
}

// Raises the Python exception for a C API failure. A message may quote a
// name from the file that is not UTF-8: it is decoded with replacement, as
// the Python reader decodes names.
py::object Text(const char* s) {
  return py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(s, static_cast<Py_ssize_t>(std::strlen(s)), "replace"));
}

[[noreturn]] void Raise(ie_status code, const char* message) {
  py::object type = code == IE_ERR_INVALID_FILE || code == IE_ERR_UNSUPPORTED_VERSION
                        ? py::module_::import("intedge.ir.errors").attr("IegFormatError")
                    : code == IE_ERR_INVALID_ARGUMENT ? py::reinterpret_borrow<py::object>(PyExc_ValueError)
                    : code == IE_ERR_OUT_OF_MEMORY    ? py::reinterpret_borrow<py::object>(PyExc_MemoryError)
                                                      : py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
  PyErr_SetObject(type.ptr(), Text(message).ptr());
  throw py::error_already_set();
}

const char* DtypeName(ie_dtype d) {
  static const char* names[] = {"int8", "uint8", "int16", "int32", "int64", "float32", "int4"};
  return d >= 0 && d <= IE_INT4 ? names[d] : "?";
}

py::dict Describe(const ie_tensor& t) {
  py::dict d;
  d["name"] = Text(t.name);
  d["dtype"] = DtypeName(t.dtype);
  d["shape"] = py::tuple(py::cast(std::vector<int64_t>(t.shape, t.shape + t.rank)));
  d["scale"] = t.scale;
  return d;
}

// The engine's verdict on a whole file (ie_check_buffer): raises IegFormatError naming the fault.
void CheckIeg(const py::bytes& data) {
  const std::string_view view = data;
  char message[1024];
  ie_status st;
  {
    py::gil_scoped_release release;
    st = ie_check_buffer(view.data(), view.size(), message, sizeof message);
  }
  if (st != IE_OK) Raise(st, message);
}

// One ie_session; Python's intedge.runtime.Session adds names and checks.
class PySession {
 public:
  // source: a path (str) or the file's bytes.
  PySession(const py::object& source, int threads, const std::string& isa, bool profile, bool check_finite,
            int64_t max_arena_bytes) {
    ie_session_options o;
    ie_session_options_init(&o);
    o.threads = threads;
    o.isa = isa.empty() ? nullptr : isa.c_str();
    o.profile = profile;
    o.check_finite = check_finite;
    o.max_arena_bytes = max_arena_bytes;
    char message[1024];
    ie_status st;
    if (py::isinstance<py::bytes>(source)) {
      const std::string_view data = source.cast<py::bytes>();
      st = ie_session_open_buffer(data.data(), data.size(), &o, &s_, message, sizeof message);
    } else {
      const std::string path = source.cast<std::string>();
      st = ie_session_open_file(path.c_str(), &o, &s_, message, sizeof message);
    }
    if (st != IE_OK) Raise(st, message);
  }
  ~PySession() { ie_session_close(s_); }
  PySession(const PySession&) = delete;
  PySession& operator=(const PySession&) = delete;

  py::list Inputs() const { return Infos(ie_session_input_count(s_), ie_session_input_info); }
  py::list Outputs() const { return Infos(ie_session_output_count(s_), ie_session_output_info); }

  // arrays: one numpy array per graph input, in order (read-only arrays are fine: inputs are only read).
  // Outputs are copied out inside the same locked call, so threads may share the session.
  py::list Run(const std::vector<py::array>& arrays) {
    std::vector<ie_tensor> in(arrays.size());
    std::vector<py::array> keep;
    for (size_t i = 0; i < arrays.size(); ++i) {
      py::array a = py::array::ensure(arrays[i], py::array::c_style);
      if (!a) throw py::value_error("input " + std::to_string(i) + " is not an array");
      in[i].dtype = DtypeOf(a);
      in[i].rank = static_cast<int32_t>(a.ndim());
      if (a.ndim() > IE_MAX_RANK) throw py::value_error("input rank above 8");
      for (py::ssize_t d = 0; d < a.ndim(); ++d) in[i].shape[d] = a.shape(d);
      in[i].data = const_cast<void*>(a.data());
      in[i].bytes = static_cast<size_t>(a.nbytes());
      keep.push_back(a);
    }
    const int32_t n_out = ie_session_output_count(s_);
    py::list out;
    std::vector<ie_tensor> outs(static_cast<size_t>(n_out));
    for (int32_t i = 0; i < n_out; ++i) {
      ie_tensor& t = outs[static_cast<size_t>(i)];
      ie_session_output_info(s_, i, &t);
      py::array a(py::dtype(DtypeName(t.dtype)), std::vector<int64_t>(t.shape, t.shape + t.rank));
      t.data = a.mutable_data();
      out.append(a);
    }
    char message[1024];
    ie_status st;
    {
      py::gil_scoped_release release;
      st = ie_session_run_copy(s_, in.data(), static_cast<int32_t>(in.size()), outs.data(), n_out, message,
                               sizeof message);
    }
    if (st != IE_OK) Raise(st, message);
    for (int32_t i = 0; i < n_out; ++i) {  // a dynamic graph's outputs at the run's length
      const ie_tensor& t = outs[static_cast<size_t>(i)];
      py::array a = out[static_cast<size_t>(i)].cast<py::array>();
      if (static_cast<size_t>(a.nbytes()) == t.bytes) continue;
      py::array b(a.dtype(), std::vector<int64_t>(t.shape, t.shape + t.rank));
      std::memcpy(b.mutable_data(), t.data, t.bytes);
      out[static_cast<size_t>(i)] = b;
    }
    return out;
  }

  // (name, bound) of the graph's dynamic dimension, or None.
  py::object Dynamic() const {
    const char* name = nullptr;
    const int64_t bound = ie_session_dynamic_dim(s_, &name);
    if (bound == 0) return py::none();
    return py::make_tuple(Text(name), bound);
  }
  // Per graph input: its dynamic axes.
  py::list InputDynamicAxes() const {
    py::list l;
    for (int32_t i = 0; i < ie_session_input_count(s_); ++i) {
      py::list axes;
      const uint32_t mask = ie_session_input_dynamic_axes(s_, i);
      for (int a = 0; a < 32; ++a) {
        if (mask >> a & 1u) axes.append(a);
      }
      l.append(py::tuple(axes));
    }
    return l;
  }

  // The kernel table: per op, kind, name, kernel and (profile=True) time.
  py::list Ops() const {
    py::list ops;
    for (int32_t k = 0; k < ie_session_op_count(s_); ++k) {
      ie_op_info op;
      ie_session_op_info(s_, k, &op);
      py::dict d;
      d["kind"] = op.kind;
      d["name"] = Text(op.name);
      d["kernel"] = op.kernel;
      d["total_us"] = op.total_us;
      d["runs"] = op.runs;
      ops.append(d);
    }
    return ops;
  }

  // The state tensors (a KV cache): their descriptions, a copy of one, writing one, zeroing all.
  py::list States() const { return Infos(ie_session_state_count(s_), ie_session_state); }
  py::array ReadState(int32_t index) {
    ie_tensor t;
    if (ie_session_state(s_, index, &t) != IE_OK) throw py::index_error("no state tensor " + std::to_string(index));
    py::array a(py::dtype(DtypeName(t.dtype)), std::vector<int64_t>(t.shape, t.shape + t.rank));
    std::memcpy(a.mutable_data(), t.data, t.bytes);
    return a;
  }
  void WriteState(int32_t index, const py::array& value) {
    ie_tensor t;
    if (ie_session_state(s_, index, &t) != IE_OK) throw py::index_error("no state tensor " + std::to_string(index));
    py::array a = py::array::ensure(value, py::array::c_style);
    const bool same = a && Is(a, DtypeName(t.dtype)) && a.ndim() == t.rank &&
                      std::equal(a.shape(), a.shape() + a.ndim(), t.shape) && static_cast<size_t>(a.nbytes()) == t.bytes;
    if (!same) {
      throw py::value_error(std::string("state '") + t.name + "' takes a " + DtypeName(t.dtype) + " array of its shape");
    }
    std::memcpy(t.data, a.data(), t.bytes);
  }
  void ResetState() {
    py::gil_scoped_release release;  // it waits for a run on another thread
    ie_session_reset_state(s_);
  }

  std::string isa() const { return ie_session_isa(s_); }
  int threads() const { return ie_session_threads(s_); }
  size_t arena_bytes() const { return ie_session_arena_bytes(s_); }
  size_t state_bytes() const { return ie_session_state_bytes(s_); }
  size_t weight_bytes() const { return ie_session_weight_bytes(s_); }

 private:
  template <typename F>
  py::list Infos(int32_t n, F info) const {
    py::list l;
    for (int32_t i = 0; i < n; ++i) {
      ie_tensor t;
      info(s_, i, &t);
      l.append(Describe(t));
    }
    return l;
  }

  // The ie_dtype of a numpy array; -1 (never a graph's dtype, so the C API rejects it) for any other.
  static ie_dtype DtypeOf(const py::array& a) {
    for (int d = IE_INT8; d <= IE_FLOAT32; ++d) {
      if (Is(a, DtypeName(static_cast<ie_dtype>(d)))) return static_cast<ie_dtype>(d);
    }
    return static_cast<ie_dtype>(-1);
  }

  ie_session* s_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "intedge's compiled runtime (C++): file verification and the scalar oracle kernels.";
  m.def("verify_ieg", &VerifyIeg, py::arg("data"),
        "Verify a whole .ieg image (header, CRC, FlatBuffer, constants); raises ValueError naming the fault.");
  m.def("check_ieg", &CheckIeg, py::arg("data"),
        "The engine's verdict on a whole .ieg image: the container, the graph and every op against the op "
        "spec, nothing prepared; raises IegFormatError naming the fault.");
  m.def("format_version", [] {
    uint16_t major, minor;
    ie_format_version(&major, &minor);
    return py::make_tuple(major, minor);
  });

  py::class_<PySession>(m, "Session", "A graph loaded into the C++ engine (the C API's ie_session).")
      .def(py::init<const py::object&, int, const std::string&, bool, bool, int64_t>(), py::arg("source"),
           py::arg("threads") = 1, py::arg("isa") = "", py::arg("profile") = false, py::arg("check_finite") = true,
           py::arg("max_arena_bytes") = 0)
      .def_property_readonly("inputs", &PySession::Inputs)
      .def_property_readonly("outputs", &PySession::Outputs)
      .def_property_readonly("dynamic", &PySession::Dynamic)
      .def_property_readonly("input_dynamic_axes", &PySession::InputDynamicAxes)
      .def_property_readonly("isa", &PySession::isa)
      .def_property_readonly("threads", &PySession::threads)
      .def_property_readonly("arena_bytes", &PySession::arena_bytes)
      .def_property_readonly("state_bytes", &PySession::state_bytes)
      .def_property_readonly("states", &PySession::States)
      .def("read_state", &PySession::ReadState, py::arg("index"))
      .def("write_state", &PySession::WriteState, py::arg("index"), py::arg("value"))
      .def("reset_state", &PySession::ResetState)
      .def_property_readonly("weight_bytes", &PySession::weight_bytes)
      .def("run", &PySession::Run, py::arg("inputs"))
      .def("ops", &PySession::Ops);
  m.def("known_isas", [] {
    std::vector<std::string> names;
    for (int32_t i = 0; const char* isa = ie_isa_name(i); ++i) names.push_back(isa);
    return names;
  });
  m.def("supported_isas", [] {
    std::vector<std::string> names;
    for (int32_t i = 0; const char* isa = ie_isa_name(i); ++i) {
      if (ie_isa_supported(isa)) names.push_back(isa);
    }
    return names;
  });

  py::module_ kern = m.def_submodule("kernels", "Scalar kernels with the signatures of intedge.integer_ops.");
  kern.def("qlinear", &QLinear, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("multiplier"),
           py::arg("shift"), py::arg("out_dtype") = "int8");
  kern.def("qlinear_w4", &QLinearW4, py::arg("x"), py::arg("packed"), py::arg("group_scales"),
           py::arg("group_size"), py::arg("bias"), py::arg("multiplier"), py::arg("shift"),
           py::arg("out_dtype") = "int8");
  kern.def("qmatmul", &QMatMul, py::arg("a"), py::arg("b"), py::arg("transpose_b"), py::arg("multiplier"),
           py::arg("shift"), py::arg("out_dtype") = "int8");
  kern.def("shiftmax", &Shiftmax, py::arg("x"), py::arg("multiplier"), py::arg("shift"), py::arg("keep") = py::none());
  kern.def("shiftgelu", &ShiftGelu, py::arg("x"), py::arg("x0"), py::arg("multiplier"), py::arg("shift"));
  kern.def("lambda_shiftgelu", &LambdaShiftGelu, py::arg("x"), py::arg("slope_multiplier"), py::arg("slope_shift"),
           py::arg("multiplier"), py::arg("shift"));
  kern.def("ilayernorm", &ILayerNorm, py::arg("x"), py::arg("multiplier"), py::arg("bias"), py::arg("shift"),
           py::arg("out_dtype") = "int8", py::arg("rms") = false);
  kern.def("requantize", &Requant, py::arg("z"), py::arg("multiplier"), py::arg("shift"),
           py::arg("dtype") = "int8");
  kern.def("qadd", &QAdd, py::arg("a"), py::arg("b"), py::arg("multiplier_a"), py::arg("multiplier_b"),
           py::arg("shift"), py::arg("out_dtype") = "int8");
  kern.def("meanpool", &MeanPool, py::arg("x"), py::arg("axis"), py::arg("multiplier"), py::arg("shift"),
           py::arg("out_dtype") = "int8");
  kern.def("quantize_input", &Quantize, py::arg("x"), py::arg("inv_scale"), py::arg("dtype") = "int8");
  kern.def("dequantize_output", &Dequantize, py::arg("q"), py::arg("scale"));
  kern.def("gather", &Gather, py::arg("table"), py::arg("indices"));
  kern.def("argmax", &ArgMax, py::arg("x"), py::arg("axis"));
  kern.def("upsample_nearest", &UpsampleNearest, py::arg("x"), py::arg("factor_h"), py::arg("factor_w"));
  kern.def("lookup", &Lookup, py::arg("x"), py::arg("table"));
  kern.def("lookup_requant", &LookupRequant, py::arg("x"), py::arg("table"), py::arg("multiplier"),
           py::arg("shift"));
  kern.def("int_binary", &IntBinary, py::arg("a"), py::arg("b"), py::arg("op"));
  kern.def("cumsum", &CumSum, py::arg("x"), py::arg("axis"));
  // The decoder's kernels; isa picks another path's (the engine's names, "avx512vnni", "neon"), for tests.
  kern.def("rope", &Rope, py::arg("x"), py::arg("positions"), py::arg("cos"), py::arg("sin"), py::arg("isa") = "scalar");
  kern.def("swiglu", &Swiglu, py::arg("gate"), py::arg("up"), py::arg("table"), py::arg("multiplier"),
           py::arg("shift"), py::arg("isa") = "scalar");
  kern.def("cached_attention", &CachedAttention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("positions"),
           py::arg("k_cache"), py::arg("v_cache"), py::arg("multiplier"), py::arg("shift"), py::arg("out_multiplier"),
           py::arg("out_shift"), py::arg("isa") = "scalar",
           "Writes k, v into the caches in place (int8, C-contiguous, writable numpy arrays), as the spec does.");
}
