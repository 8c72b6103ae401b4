// Calls f(T{}) with the C++ type of an integer dtype, so one templated body
// serves every dtype combination an op accepts (Prepare has checked which).
#pragma once

#include <cstdint>

#include "engine/tensor_info.h"

namespace intedge {

template <typename F>
void WithIntType(DType dtype, F&& f) {
  switch (dtype) {
    case DType::INT8: f(int8_t{}); break;
    case DType::UINT8: f(uint8_t{}); break;
    case DType::INT16: f(int16_t{}); break;
    case DType::INT32: f(int32_t{}); break;
    default: break;  // excluded by Prepare
  }
}

// int8 or int16: the activation dtypes.
template <typename F>
void WithActType(DType dtype, F&& f) {
  if (dtype == DType::INT16) {
    f(int16_t{});
  } else {
    f(int8_t{});
  }
}

template <typename T>
T* As(uint8_t* p) {
  return reinterpret_cast<T*>(p);
}
template <typename T>
const T* As(const uint8_t* p) {
  return reinterpret_cast<const T*>(p);
}

}  // namespace intedge
