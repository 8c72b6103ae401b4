// A 64-byte aligned array for packed weights and per-call scratch: the
// per-ISA kernel files' (why it is written this way, below), and the odd
// other file that needs aligned scratch that may fail to allocate (a fused
// Shiftmax's scores; intedge-gemm-bench's rows, placed as the arena would).
//
// Each ISA file is compiled with its own -m flags. An inline function or
// template instantiated in two such files (std::vector<uint8_t>::resize,
// say) is one symbol to the linker, which keeps either copy, so AVX-512 code
// could end up on the AVX2 path. Everything here is therefore in an
// anonymous namespace (a private copy per file), and ISA files use no
// standard-library templates that other files also instantiate.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace intedge {
namespace {  // NOLINT(build/namespaces): one private copy per ISA file, see above

template <typename T>
class AlignedArray {
 public:
  AlignedArray() = default;
  ~AlignedArray() { std::free(data_); }
  AlignedArray(const AlignedArray&) = delete;
  AlignedArray& operator=(const AlignedArray&) = delete;

  // Zero-filled; false when out of memory.
  bool Resize(size_t n) {
    std::free(data_);
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    data_ = bytes ? static_cast<T*>(std::aligned_alloc(64, bytes)) : nullptr;
    if (data_) std::memset(static_cast<void*>(data_), 0, bytes);
    size_ = data_ ? n : 0;
    return data_ != nullptr || n == 0;
  }
  // At least n elements: kept as it is when it has them, else Resize(n)
  // (contents not kept). Per-thread scratch grows to its largest call this
  // way, allocated once rather than per call. False when out of memory.
  bool EnsureSize(size_t n) { return size_ >= n || Resize(n); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace
}  // namespace intedge
