// The scalar GemmKernel: the oracle kernels over a range of rows, weights
// read in place from the file (qlinear operands only: int8 rows, [N, K]
// weights, int8/int16 out).
#include "kernels/dispatch.h"
#include "kernels/kernels.h"

namespace intedge {
namespace {

class GemmScalar final : public GemmKernel {
 public:
  explicit GemmScalar(const GemmWeights& w) : w_(w) {}

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    if (w_.out_bits == 16) {
      Rows(static_cast<const int8_t*>(x), m0, m1, static_cast<int16_t*>(y));
    } else {
      Rows(static_cast<const int8_t*>(x), m0, m1, static_cast<int8_t*>(y));
    }
    return true;
  }
  void SetRight(const int8_t* w8, int64_t /*columns*/) override { w_.w8 = w8; }  // computes every column
  std::string name() const override { return w_.w8 ? "gemm_w8a8_scalar" : "gemm_w4a8_scalar"; }

 private:
  template <typename Out>
  void Rows(const int8_t* x, int64_t m0, int64_t m1, Out* y) const {
    const int8_t* xr = x + m0 * w_.K;
    Out* yr = y + m0 * w_.N;
    if (w_.w8) {
      kernels::qgemm_w8a8_scalar(xr, w_.w8, w_.bias, w_.mult, w_.shift, m1 - m0, w_.N, w_.K, yr);
    } else {
      kernels::qgemm_w4a8_scalar(xr, w_.w4, w_.group_scales, w_.group, w_.bias, w_.mult, w_.shift, m1 - m0, w_.N,
                                 w_.K, yr);
    }
  }

  GemmWeights w_;
};

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmScalar(const GemmWeights& w) { return std::make_unique<GemmScalar>(w); }

}  // namespace intedge
