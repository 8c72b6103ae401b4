// Data movement: reshape (an alias, no work), transpose, concat, slice,
// gather (embedding lookup), nearest upsampling and argmax.
#include <cstring>

#include "kernels/kernels.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

class Reshape final : public Op {
 public:
  bool IsAlias() const override { return true; }
  std::string kernel() const override { return "alias"; }
  Status Run(const TensorData&, ThreadPool&) const override { return Status::Ok(); }
};

// y = x.transpose(perm), on raw elements of `elem` bytes.
class Transpose final : public Op {
 public:
  Transpose(int x, int y, int rank, const int64_t* out_dims, const int64_t* in_strides, int64_t elem, int64_t n)
      : x_(x), y_(y), rank_(rank), elem_(elem), n_(n) {
    for (int i = 0; i < rank; ++i) {
      out_dims_[i] = out_dims[i];
      in_strides_[i] = in_strides[i];
    }
  }
  std::string kernel() const override { return merged_ ? "(written merged by its qmatmul)" : "transpose_rows"; }
  bool IsAlias() const override { return merged_; }
  bool MergesHeads(int64_t* heads, int64_t* rows, int64_t* width) const override {
    if (rank_ < 3) return false;
    for (int i = 0; i + 3 < rank_; ++i) {
      if (out_dims_[i] != 1) return false;
    }
    const int64_t m = out_dims_[rank_ - 3], b = out_dims_[rank_ - 2], n = out_dims_[rank_ - 1];
    if (in_strides_[rank_ - 1] != 1 || in_strides_[rank_ - 2] != m * n || in_strides_[rank_ - 3] != n) return false;
    *heads = b;
    *rows = m;
    *width = n;
    return true;
  }
  void set_merged() override { merged_ = true; }

  // Output rows (the last axis) in order; each row's source start is kept as
  // an odometer over the outer axes, so a row costs no divisions.
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    if (merged_) return Status::Ok();
    const uint8_t* x = t[x_];
    uint8_t* y = t[y_];
    const int64_t inner = rank_ ? out_dims_[rank_ - 1] : 1;
    const int64_t rows = inner ? n_ / inner : 0;
    const int64_t step = rank_ ? in_strides_[rank_ - 1] : 0;
    pool.ParallelFor(rows, 64, [&](int64_t r0, int64_t r1) {
      int64_t index[kIegMaxRank] = {}, src = 0, rem = r0;
      for (int i = rank_ - 2; i >= 0; --i) {
        index[i] = rem % out_dims_[i];
        src += index[i] * in_strides_[i];
        rem /= out_dims_[i];
      }
      for (int64_t r = r0; r < r1; ++r) {
        uint8_t* dst = y + r * inner * elem_;
        if (step == 1) {
          CopyRow(dst, x + src * elem_, inner * elem_);
        } else {
          switch (elem_) {
            case 1: Copy<uint8_t>(x, src, step, inner, dst); break;
            case 2: Copy<uint16_t>(x, src, step, inner, dst); break;
            case 4: Copy<uint32_t>(x, src, step, inner, dst); break;
            default: Copy<uint64_t>(x, src, step, inner, dst); break;
          }
        }
        for (int i = rank_ - 2; i >= 0; --i) {  // next row: advance the odometer
          src += in_strides_[i];
          if (++index[i] < out_dims_[i]) break;
          src -= index[i] * in_strides_[i];
          index[i] = 0;
        }
      }
    });
    return Status::Ok();
  }

 private:
  // Rows of up to 32 bytes (an image patch's row of 16) are copied in 8-byte
  // words here: a call to memcpy for each cost a third of the im2col
  // transpose. From 64 bytes on, memcpy's wide moves win.
  static void CopyRow(uint8_t* dst, const uint8_t* src, int64_t bytes) {
    if (bytes > 32) {
      std::memcpy(dst, src, static_cast<size_t>(bytes));
      return;
    }
    int64_t i = 0;
    for (; i + 8 <= bytes; i += 8) __builtin_memcpy(dst + i, src + i, 8);
    for (; i < bytes; ++i) dst[i] = src[i];
  }

  template <typename T>
  static void Copy(const uint8_t* x, int64_t src, int64_t step, int64_t n, uint8_t* dst) {
    const T* s = As<T>(x) + src;
    T* d = As<T>(dst);
    for (int64_t j = 0; j < n; ++j) d[j] = s[j * step];
  }

  int x_, y_, rank_;
  int64_t out_dims_[kIegMaxRank] = {}, in_strides_[kIegMaxRank] = {};
  int64_t elem_, n_;
  bool merged_ = false;  // its input written in its layout (MergesHeads): nothing to do
};

class Concat final : public Op {
 public:
  Concat(std::vector<int> xs, std::vector<int64_t> chunk_bytes, int y, int64_t outer)
      : xs_(std::move(xs)), chunk_(std::move(chunk_bytes)), y_(y), outer_(outer) {}
  std::string kernel() const override { return "concat_copy"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    uint8_t* y = t[y_];
    for (int64_t o = 0; o < outer_; ++o) {
      for (size_t i = 0; i < xs_.size(); ++i) {
        std::memcpy(y, t[xs_[i]] + o * chunk_[i], static_cast<size_t>(chunk_[i]));
        y += chunk_[i];
      }
    }
    return Status::Ok();
  }

 private:
  std::vector<int> xs_;
  std::vector<int64_t> chunk_;
  int y_;
  int64_t outer_;
};

class Slice final : public Op {
 public:
  Slice(int x, int y, int64_t outer, int64_t dim, int64_t start, int64_t step, int64_t count, int64_t inner_bytes)
      : x_(x), y_(y), outer_(outer), dim_(dim), start_(start), step_(step), count_(count), inner_(inner_bytes) {}
  std::string kernel() const override { return "slice_copy"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    const uint8_t* x = t[x_];
    uint8_t* y = t[y_];
    for (int64_t o = 0; o < outer_; ++o) {
      for (int64_t i = 0; i < count_; ++i) {
        std::memcpy(y, x + (o * dim_ + start_ + i * step_) * inner_, static_cast<size_t>(inner_));
        y += inner_;
      }
    }
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t outer_, dim_, start_, step_, count_, inner_;
};

class Gather final : public Op {
 public:
  Gather(int table, int idx, int y, DType type, int64_t V, int64_t D, int64_t n)
      : table_(table), idx_(idx), y_(y), type_(type), V_(V), D_(D), n_(n) {}
  std::string kernel() const override { return "gather_scalar"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    int64_t bad = -1;
    WithActType(type_, [&](auto tag) {
      using T = decltype(tag);
      bad = kernels::gather_scalar(As<const T>(t[table_]), V_, D_, As<const int32_t>(t[idx_]), n_, As<T>(t[y_]));
    });
    if (bad >= 0) {
      return MakeError(IE_ERR_INVALID_ARGUMENT, "gather: index %d at position %lld is outside [0, %lld)",
                       As<const int32_t>(t[idx_])[bad], static_cast<long long>(bad), static_cast<long long>(V_));
    }
    return Status::Ok();
  }

 private:
  int table_, idx_, y_;
  DType type_;
  int64_t V_, D_, n_;
};

class UpsampleNearest final : public Op {
 public:
  UpsampleNearest(int x, int y, DType type, int64_t outer, int64_t H, int64_t W, int64_t fh, int64_t fw)
      : x_(x), y_(y), type_(type), outer_(outer), H_(H), W_(W), fh_(fh), fw_(fw) {}
  std::string kernel() const override { return "upsample_nearest_scalar"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    WithIntType(type_, [&](auto tag) {
      using T = decltype(tag);
      kernels::upsample_nearest_scalar(As<const T>(t[x_]), outer_, H_, W_, fh_, fw_, As<T>(t[y_]));
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType type_;
  int64_t outer_, H_, W_, fh_, fw_;
};

class ArgMax final : public Op {
 public:
  ArgMax(int x, int y, DType type, int64_t outer, int64_t len, int64_t inner)
      : x_(x), y_(y), type_(type), outer_(outer), len_(len), inner_(inner) {}
  std::string kernel() const override { return "argmax_scalar"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    WithIntType(type_, [&](auto tag) {
      using T = decltype(tag);
      kernels::argmax_scalar(As<const T>(t[x_]), outer_, len_, inner_, As<int32_t>(t[y_]));
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType type_;
  int64_t outer_, len_, inner_;
};

}  // namespace

Status PrepareReshape(const OpContext&, std::unique_ptr<Op>* out) {
  *out = std::make_unique<Reshape>();
  return Status::Ok();
}

Status PrepareTranspose(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* perm = ctx.op().options_as_TransposeOptions()->perm();
  int64_t strides[kIegMaxRank], in_strides[kIegMaxRank], shape[kIegMaxRank];
  int64_t stride = 1;
  for (int i = x.rank - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= x.dim(i);
  }
  for (int i = 0; i < x.rank; ++i) {
    const int p = perm->Get(static_cast<flatbuffers::uoffset_t>(i));
    shape[i] = x.dim(p);
    in_strides[i] = strides[p];
  }
  *out = std::make_unique<Transpose>(ctx.input_id(0), ctx.output_id(0), x.rank, shape, in_strides,
                                     ElementBytes(x.dtype), x.numel);
  return Status::Ok();
}

Status PrepareConcat(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x0 = ctx.input(0);
  const int axis = ctx.op().options_as_ConcatOptions()->axis();
  std::vector<int> ids;
  std::vector<int64_t> chunks;
  const int64_t inner_bytes = x0.Span(axis + 1, x0.rank) * ElementBytes(x0.dtype);
  for (int j = 0; j < ctx.num_inputs(); ++j) {
    ids.push_back(ctx.input_id(j));
    chunks.push_back(ctx.input(j).dim(axis) * inner_bytes);
  }
  *out = std::make_unique<Concat>(std::move(ids), std::move(chunks), ctx.output_id(0), x0.Span(0, axis));
  return Status::Ok();
}

Status PrepareSlice(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_SliceOptions();
  const int axis = o->axis();
  *out = std::make_unique<Slice>(ctx.input_id(0), ctx.output_id(0), x.Span(0, axis), x.dim(axis), o->start(), o->step(),
                                 ctx.output().dim(axis), x.Span(axis + 1, x.rank) * ElementBytes(x.dtype));
  return Status::Ok();
}

Status PrepareGather(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo &table = ctx.input(0), &idx = ctx.input(1);
  *out = std::make_unique<Gather>(ctx.input_id(0), ctx.input_id(1), ctx.output_id(0), table.dtype, table.dim(0),
                                  table.dim(1), idx.numel);
  return Status::Ok();
}

Status PrepareUpsampleNearest(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo &x = ctx.input(0), &y = ctx.output();
  const int64_t H = x.dim(x.rank - 2), W = x.dim(x.rank - 1);
  *out = std::make_unique<UpsampleNearest>(ctx.input_id(0), ctx.output_id(0), x.dtype, x.Span(0, x.rank - 2), H, W,
                                           y.dim(y.rank - 2) / H, y.dim(y.rank - 1) / W);
  return Status::Ok();
}

Status PrepareArgMax(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const int axis = ctx.op().options_as_ArgMaxOptions()->axis();
  *out = std::make_unique<ArgMax>(ctx.input_id(0), ctx.output_id(0), x.dtype, x.Span(0, axis), x.dim(axis),
                                  x.Span(axis + 1, x.rank));
  return Status::Ok();
}

}  // namespace intedge
