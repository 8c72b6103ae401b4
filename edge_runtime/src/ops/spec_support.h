// The C++ twins of the op spec's language (intedge/ir/spec_lang.py): the
// values and helpers that the generated checks (op_checks_generated.cc) are
// written in. Each helper means exactly what its Python namesake does; where
// Python would raise (an index out of range, a division by zero, reading an
// absent input), the helper marks the evaluation bad and the rule fails.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/tensor_info.h"

namespace intedge {
namespace spec {

// One evaluation of a rule: `bad` is what an exception is in Python.
struct Ev {
  bool bad = false;
};

// A shape: up to kMax dims (rank 8, and the concatenations rules build of them).
class Dims {
 public:
  static constexpr int kMax = 24;
  Dims() = default;
  Dims(std::initializer_list<int64_t> dims) {
    for (int64_t d : dims) d_[n_++] = d;
  }
  int64_t size() const { return n_; }
  int64_t operator[](int64_t i) const { return d_[i]; }
  void Push(Ev& e, int64_t v) {
    if (n_ == kMax) {
      e.bad = true;
      return;
    }
    d_[n_++] = v;
  }
  bool operator==(const Dims& o) const {
    if (n_ != o.n_) return false;
    for (int i = 0; i < n_; ++i) {
      if (d_[i] != o.d_[i]) return false;
    }
    return true;
  }
  bool operator!=(const Dims& o) const { return !(*this == o); }

 private:
  int n_ = 0;
  int64_t d_[kMax] = {};
};

inline Dims DimsOf(const TensorInfo& t) {
  Dims d;
  Ev e;
  for (int i = 0; i < t.rank; ++i) d.Push(e, t.dim(i));
  return d;
}

// d[i], Python style (negative i counts from the end).
inline int64_t Index(Ev& e, const Dims& d, int64_t i) {
  if (i < 0) i += d.size();
  if (i < 0 || i >= d.size()) {
    e.bad = true;
    return 0;
  }
  return d[i];
}

// d[lo:hi] with Python's clamping; has_lo/has_hi false where a bound is left out.
inline Dims Slice(const Dims& d, bool has_lo, int64_t lo, bool has_hi, int64_t hi) {
  const int64_t n = d.size();
  auto clamp = [n](int64_t v) { return v < 0 ? (v + n < 0 ? 0 : v + n) : (v > n ? n : v); };
  const int64_t b = has_lo ? clamp(lo) : 0, end = has_hi ? clamp(hi) : n;
  Dims out;
  Ev e;
  for (int64_t i = b; i < end; ++i) out.Push(e, d[i]);
  return out;
}

inline Dims Cat(Ev& e, const Dims& a, const Dims& b) {
  Dims out = a;
  for (int64_t i = 0; i < b.size(); ++i) out.Push(e, b[i]);
  return out;
}

inline int64_t Mul(Ev& e, int64_t a, int64_t b);
inline int64_t Prod(Ev& e, const Dims& d) {
  int64_t n = 1;
  for (int64_t i = 0; i < d.size(); ++i) n = Mul(e, n, d[i]);
  return n;
}

// Checked int64 arithmetic: a result outside int64 marks the evaluation
// bad (spec_lang.py's _i64 does the same on the Python side).
inline int64_t Add(Ev& e, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) e.bad = true;
  return r;
}
inline int64_t Sub(Ev& e, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) e.bad = true;
  return r;
}
inline int64_t Mul(Ev& e, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) e.bad = true;
  return r;
}
inline int64_t Neg(Ev& e, int64_t a) { return Sub(e, 0, a); }

// Python's // and % (floor, the remainder takes the divisor's sign).
inline int64_t FloorDiv(Ev& e, int64_t a, int64_t b) {
  if (b == 0 || (b == -1 && a == INT64_MIN)) {
    e.bad = true;
    return 0;
  }
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t FloorMod(Ev& e, int64_t a, int64_t b) {
  if (b == 0) {
    e.bad = true;
    return 0;
  }
  if (b == -1) return 0;  // a % -1 is 0, and INT64_MIN % -1 would trap
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

// A role of an op: one tensor, or none (an optional input left out).
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const TensorInfo* t) : t_(t) {}
  bool present() const { return t_ != nullptr; }
  const TensorInfo* info() const { return t_; }
  int64_t rank(Ev& e) const { return Get(e).rank; }
  Dims shape(Ev& e) const { return DimsOf(Get(e)); }
  DType dtype(Ev& e) const { return Get(e).dtype; }
  bool constant(Ev& e) const { return Get(e).constant != nullptr; }
  double scale(Ev& e) const { return Get(e).scale; }
  std::string name(Ev& e) const { return Get(e).name; }

 private:
  const TensorInfo& Get(Ev& e) const {
    static const TensorInfo kNone;
    if (!t_) e.bad = true;
    return t_ ? *t_ : kNone;
  }
  const TensorInfo* t_ = nullptr;
};

// A `many` role: the list of its tensors.
class Tensors {
 public:
  explicit Tensors(std::vector<Tensor> v) : v_(std::move(v)) {}
  int64_t size() const { return static_cast<int64_t>(v_.size()); }
  Tensor At(Ev& e, int64_t i) const {
    if (i < 0) i += size();
    if (i < 0 || i >= size()) {
      e.bad = true;
      return Tensor();
    }
    return v_[static_cast<size_t>(i)];
  }

 private:
  std::vector<Tensor> v_;
};

// An option vector (a missing one is empty).
template <typename T>
class Vec {
 public:
  explicit Vec(const flatbuffers::Vector<T>* v) : v_(v) {}
  int64_t size() const { return v_ ? static_cast<int64_t>(v_->size()) : 0; }
  int64_t At(Ev& e, int64_t i) const {
    if (i < 0) i += size();
    if (i < 0 || i >= size()) {
      e.bad = true;
      return 0;
    }
    return v_->Get(static_cast<flatbuffers::uoffset_t>(i));
  }

 private:
  const flatbuffers::Vector<T>* v_;
};

template <typename T>
bool AllBetween(const Vec<T>& v, int64_t lo, int64_t hi) {
  Ev e;
  for (int64_t i = 0; i < v.size(); ++i) {
    const int64_t x = v.At(e, i);
    if (x < lo || x > hi) return false;
  }
  return true;
}

// max |value| (0 when absent), smallest and largest value of a constant tensor.
int64_t MaxAbs(Ev& e, const Tensor& t);
int64_t MinOf(Ev& e, const Tensor& t);
int64_t MaxOf(Ev& e, const Tensor& t);

// numpy broadcasting of `small` to `big`.
inline bool Broadcasts(const Dims& small, const Dims& big) {
  if (small.size() > big.size()) return false;
  for (int64_t i = 1; i <= small.size(); ++i) {
    const int64_t s = small[small.size() - i], b = big[big.size() - i];
    if (s != 1 && s != b) return false;
  }
  return true;
}

inline bool IsPermutation(const Vec<int32_t>& perm, int64_t n) {
  if (perm.size() != n || n > Dims::kMax) return false;
  bool seen[Dims::kMax] = {};
  Ev e;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = perm.At(e, i);
    if (p < 0 || p >= n || seen[p]) return false;
    seen[p] = true;
  }
  return true;
}

inline Dims Permute(Ev& e, const Dims& d, const Vec<int32_t>& perm) {
  Dims out;
  for (int64_t i = 0; i < perm.size(); ++i) out.Push(e, Index(e, d, perm.At(e, i)));
  return out;
}

inline bool Finite(double v) { return std::isfinite(v); }

template <typename T>
bool In(T v, std::initializer_list<T> set) {
  for (T s : set) {
    if (v == s) return true;
  }
  return false;
}

// Values as spec_lang.fmt prints them.
inline std::string FmtInt(int64_t v) { return std::to_string(v); }
inline std::string FmtBool(bool v) { return v ? "true" : "false"; }
inline std::string FmtDType(DType d) { return DTypeName(d); }
std::string FmtDims(const Dims& d);
std::string FmtFloat(double v);  // %.17g, with nan / inf / -inf as Python prints them

// A message placeholder: its text, or "?" where it cannot be evaluated.
template <typename F>
std::string Place(F&& f) {
  Ev e;
  std::string s = f(e);
  return e.bad ? "?" : s;
}

}  // namespace spec
}  // namespace intedge
