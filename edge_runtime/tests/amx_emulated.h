// The AMX GEMM on emulated tiles (amx_emulated.cc), for the kernel tests.
#pragma once

#include <memory>

#include "kernels/dispatch.h"

namespace intedge {

// Null where the shifted sums would not fit int32 (as MakeGemmAmx falls back to scalar there).
std::unique_ptr<GemmKernel> MakeGemmAmxEmulated(const GemmWeights& w);

}  // namespace intedge
