// Shiftmax, ShiftGELU, λ-ShiftGELU, I-LayerNorm (and RMSNorm) and mean pooling: row-wise
// integer ops, parallel over rows; and the 256-entry table lookup, parallel
// over elements. Each is a template over its dtypes, instantiated by
// Prepare, which also picks its kernel once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/kernels.h"
#include "ops/broadcast.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

using ir::fb::DType;

constexpr int64_t kMaskedRowBlock = 64;  // rows per masked Shiftmax call: its keep rows stay in L1

// Nanoseconds since the last lap, when on (a profiled run); 0 when off.
class Clock {
 public:
  explicit Clock(bool on)
      : on_(on), last_(on ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point()) {}
  double Lap() {
    if (!on_) return 0;
    const auto now = std::chrono::steady_clock::now();
    const double ns = std::chrono::duration<double, std::nano>(now - last_).count();
    last_ = now;
    return ns;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

int64_t LastDim(const TensorInfo& t) { return t.dim(t.rank - 1); }
int64_t Rows(const TensorInfo& t) { return t.numel / LastDim(t); }

template <typename X>
class Shiftmax final : public Op {
 public:
  Shiftmax(int x, int mask, int y, DType mask_type, int64_t mask_numel, int64_t rows, int64_t cols, Broadcast bc,
           int32_t mult, int shift, Isa isa)
      : x_(x), mask_(mask), y_(y), mask_type_(mask_type), mask_numel_(mask_numel), rows_(rows), cols_(cols), bc_(bc),
        mult_(mult), shift_(shift), kernel_(ShiftmaxFor<X>(isa)) {}
  std::string kernel() const override { return source_ ? source_->name() + "+" + kernel_.name : kernel_.name; }

  // Int32 scores from a qmatmul that feeds only this op: made a GEMM row
  // block at a time into a small per-thread buffer (see RowSource).
  bool TakeRowSource(const RowSource* source, bool timed) override {
    if constexpr (std::is_same_v<X, int32_t>) {
      source_ = source;
      timed_ = timed;
      return true;
    }
    return false;
  }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    auto* y = t[y_];
    if (!source_) {
      const auto* x = As<const X>(t[x_]);
      pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()),
                       [&](int64_t r0, int64_t r1) { RunRows(t, x + r0 * cols_, cols_, r0, r1, y); });
      return Status::Ok();
    }
    Clock clock(timed_);
    IE_RETURN_IF_ERROR(source_->Begin(t, pool, KeptColumns(t)));
    const double begin = clock.Lap();
    const int64_t block = source_->block_rows(pool.threads()), slice = source_->slice_rows();
    const int64_t stride = source_->row_stride();
    std::atomic<bool> ok{true};
    std::atomic<int64_t> source_ns{0}, own_ns{0};  // summed over the threads (timed_ only)
    pool.ParallelFor(rows_, block, [&](int64_t r0, int64_t r1) {
      // Blocks counted from each head's first row, none straddling two heads (a GEMM block of one head's rows).
      thread_local AlignedArray<X> buffer;
      const auto need = static_cast<size_t>(block * stride);
      if (!buffer.EnsureSize(need)) {
        ok = false;
        return;
      }
      X* const scores = buffer.data();
      Clock lap(timed_);
      double made = 0, own = 0;
      for (int64_t b0 = r0, b1; b0 < r1; b0 = b1) {
        const int64_t head = b0 / slice * slice;
        b1 = std::min({r1, head + ((b0 - head) / block + 1) * block, head + slice});
        if (!source_->Rows(t, b0, b1, scores)) {
          ok = false;
          return;
        }
        made += lap.Lap();
        RunRows(t, scores, stride, b0, b1, y);
        own += lap.Lap();
      }
      source_ns += static_cast<int64_t>(made);
      own_ns += static_cast<int64_t>(own);
    });
    if (timed_) {
      // The repack's time, and the rows' in the ratio of the two parts' time on every thread.
      const double rows = clock.Lap(), parts = static_cast<double>(source_ns + own_ns);
      const double made = begin + (parts > 0 ? rows * static_cast<double>(source_ns) / parts : 0);
      source_share_ = begin + rows > 0 ? made / (begin + rows) : 0;
    }
    return ok ? Status::Ok() : MakeError(IE_ERR_OUT_OF_MEMORY, "shiftmax: no memory for the scores' GEMM scratch");
  }
  double source_share() const override { return source_share_; }

 private:
  // Columns [0, n) hold every key the mask keeps in any row: a padded
  // sequence's scores are needed only up to its last token (13 of
  // MiniLM's 128 in `intedge bench`). n = cols without a mask or with one
  // value per row. A mask whose last axis is the rows' holds whole mask
  // rows (see Broadcast), each scanned from its end down to the n so far.
  int64_t KeptColumns(const TensorData& t) const {
    if (mask_ < 0 || !bc_.small_step()) return cols_;
    int64_t n = 0;
    WithIntType(mask_type_, [&](auto tag) {
      const auto* m = As<const decltype(tag)>(t[mask_]);
      for (int64_t row = 0; row < mask_numel_; row += cols_) {
        for (int64_t c = cols_ - 1; c >= n; --c) {
          if (m[row + c] != 0) {
            n = c + 1;
            break;
          }
        }
      }
    });
    return n;
  }

  // Rows [r0, r1) from x (row r0 first, rows x_stride elements apart) into y.
  void RunRows(const TensorData& t, const X* x, int64_t x_stride, int64_t r0, int64_t r1, uint8_t* y) const {
    if (mask_ < 0) {
      kernel_.fn(x, x_stride, nullptr, r1 - r0, cols_, mult_, shift_, y + r0 * cols_);
      return;
    }
    // The kernel takes a keep row per x row and overlaps one row's
    // reductions with the next row's work, so it gets blocks of rows.
    // Rows of one sequence share a mask row: it is converted once and
    // copied (a call per row would give up the kernel's overlap of rows).
    // Per thread and kept: a fused Shiftmax calls this once per GEMM row block.
    const int64_t block = std::min(kMaskedRowBlock, r1 - r0);
    thread_local std::vector<uint8_t> keep;
    keep.resize(std::max(keep.size(), static_cast<size_t>((block + 1) * cols_)));
    uint8_t* const last = keep.data() + block * cols_;
    const uint8_t* expanded = nullptr;
    MaskRows rows(*this, t[mask_]);
    for (int64_t b0 = r0; b0 < r1; b0 += block) {
      const int64_t b1 = std::min(r1, b0 + block);
      for (int64_t r = b0; r < b1; ++r) {
        const uint8_t* m = rows.Row(r);
        if (m != expanded) KeepRow(m, last);
        expanded = m;
        std::copy(last, last + cols_, keep.data() + (r - b0) * cols_);
      }
      kernel_.fn(x + (b0 - r0) * x_stride, x_stride, keep.data(), b1 - b0, cols_, mult_, shift_, y + b0 * cols_);
    }
  }

  // Where the mask elements over row r of x start: a row never straddles two
  // broadcast runs (a run spans whole rows, see Broadcast). The runs' offsets
  // repeat (every head and query of a sequence shares one mask row), so each
  // is computed once per repeat (SmallOffset divides once per axis). Rows
  // asked for in order step from the last one: two divisions a row were
  // 60 % of a masked MiniLM Shiftmax's time outside its kernel.
  class MaskRows {
   public:
    MaskRows(const Shiftmax& op, const uint8_t* mask)
        : op_(op), mask_(mask), bytes_(ElementBytes(op.mask_type_)) {}
    const uint8_t* Row(int64_t r) {
      const Broadcast& bc = op_.bc_;
      if (r == row_ + 1) {
        off_ += op_.cols_;
        if (off_ == bc.run_length()) {  // the next run; the next offset after repeat_runs of them
          off_ = 0;
          ++run_;
          if (++repeat_ == bc.repeat_runs()) repeat_ = 0, offset_ = bc.SmallOffset(run_);
        }
      } else {
        const int64_t e = r * op_.cols_;
        run_ = e / bc.run_length(), off_ = e % bc.run_length(), repeat_ = run_ % bc.repeat_runs();
        offset_ = bc.SmallOffset(run_);
      }
      row_ = r;
      return mask_ + (offset_ + (bc.small_step() ? off_ : 0)) * bytes_;
    }

   private:
    const Shiftmax& op_;
    const uint8_t* mask_;
    int64_t bytes_;
    // The last row's run, its offset in the run (elements), the run's place in its repeat, and their SmallOffset.
    int64_t row_ = -2, run_ = 0, off_ = 0, repeat_ = 0, offset_ = 0;
  };

  // keep[c] = mask element over x[r, c] != 0, from MaskRows::Row(r).
  void KeepRow(const uint8_t* mask_row, uint8_t* keep) const {
    WithIntType(mask_type_, [&](auto tag) {
      using M = decltype(tag);
      const M* m = As<M>(mask_row);
      if (bc_.small_step()) {
        for (int64_t c = 0; c < cols_; ++c) keep[c] = m[c] != 0;
      } else {
        std::fill(keep, keep + cols_, static_cast<uint8_t>(m[0] != 0));
      }
    });
  }

  int x_, mask_, y_;
  DType mask_type_;
  int64_t mask_numel_, rows_, cols_;
  Broadcast bc_;
  int32_t mult_;
  int shift_;
  Kernel<ShiftmaxFn<X>> kernel_;
  const RowSource* source_ = nullptr;
  bool timed_ = false;
  mutable double source_share_ = 0;
};

class ShiftGelu final : public Op {
 public:
  ShiftGelu(int x, int y, int64_t rows, int64_t cols, int32_t x0, int32_t mult, int shift)
      : x_(x), y_(y), rows_(rows), cols_(cols), x0_(x0), mult_(mult), shift_(shift) {}
  std::string kernel() const override { return "shiftgelu_scalar"; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()), [&](int64_t r0, int64_t r1) {
      kernels::shiftgelu_scalar(As<const int8_t>(t[x_]) + r0 * cols_, r1 - r0, cols_, x0_, mult_, shift_,
                                As<int8_t>(t[y_]) + r0 * cols_);
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t rows_, cols_;
  int32_t x0_, mult_;
  int shift_;
};

// y = table[x + 128]: the lookup op, and λ-ShiftGELU and lookup_requant with
// one requant for the tensor (their bytes tabulated by Prepare). The 256
// bytes are copied in, so each op holds its table beside its kernel.
class Lookup final : public Op {
 public:
  Lookup(int x, int y, int64_t n, const int8_t* table, Isa isa) : x_(x), y_(y), n_(n), kernel_(Lookup256For(isa)) {
    std::copy(table, table + 256, table_);
  }
  bool InPlaceOnInput0() const override { return true; }
  std::string kernel() const override { return kernel_.name; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* x = As<const int8_t>(t[x_]);
    auto* y = As<int8_t>(t[y_]);
    pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) { kernel_.fn(x + b, e - b, table_, y + b); });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t n_;
  decltype(Lookup256For(Isa::kScalar)) kernel_;
  int8_t table_[256];
};

// y = requant(table[x + 128]) per channel: lookup_requant, whose int32 table
// is a constant, and λ-ShiftGELU, a pure function of each int8 before its
// per-channel output requant, whose 256 values Prepare tabulates once with
// the oracle. Run only looks values up and requantizes: exact by
// construction. The table is copied in; mult and shift point into the file.
class TableRequant final : public Op {
 public:
  TableRequant(int x, int y, int64_t rows, int64_t cols, const int32_t* table, const int32_t* mult,
               const int8_t* shift, int64_t n_mult, Isa isa)
      : x_(x), y_(y), rows_(rows), cols_(cols), mult_(mult), shift_(shift), n_mult_(n_mult),
        kernel_(TableRequantFor(isa)) {
    std::copy(table, table + 256, table_);
  }
  bool InPlaceOnInput0() const override { return true; }
  std::string kernel() const override { return kernel_.name; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()), [&](int64_t r0, int64_t r1) {
      kernel_.fn(As<const int8_t>(t[x_]) + r0 * cols_, r1 - r0, cols_, table_, mult_, shift_, n_mult_,
                 As<int8_t>(t[y_]) + r0 * cols_);
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t rows_, cols_;
  const int32_t* mult_;
  const int8_t* shift_;
  int64_t n_mult_;
  decltype(TableRequantFor(Isa::kScalar)) kernel_;
  int32_t table_[256];
};

// y = requant(table[x + 128]) per channel where most channels share one
// requant, as SmoothQuant leaves them (MiniLM's GELU: 1382 of 1536 channels
// on one multiplier, the other 154 on 154 others): the shared requant's byte
// table over every channel, run as the lookup op runs, then each other
// channel's own byte table over its column. The tables are Prepare's, from
// the scalar oracle: exact by construction. MiniLM's GELU: 40 → 28 µs a
// layer at 1 thread (table_requant_vbmi looks up four byte planes and
// requantizes every element); most of the 28 is the 154 channels' scalar
// lookups (gathers would load as many bytes, one at a time).
class ChannelTables final : public Op {
 public:
  // shared: the shared requant's 256 bytes; channels: the others, each with its own 256 bytes in own_tables.
  ChannelTables(int x, int y, int64_t rows, int64_t cols, const int8_t* shared, std::vector<int32_t> channels,
                std::vector<int8_t> own_tables, Isa isa)
      : x_(x), y_(y), rows_(rows), cols_(cols), channels_(std::move(channels)), own_tables_(std::move(own_tables)),
        kernel_(Lookup256For(isa)) {
    std::copy(shared, shared + 256, shared_);
  }
  bool InPlaceOnInput0() const override { return true; }
  std::string kernel() const override { return std::string(kernel_.name) + "+channels"; }
  int64_t packed_bytes() const override { return static_cast<int64_t>(own_tables_.size()); }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()), [&](int64_t r0, int64_t r1) {
      // Locals: an int8 store may alias any member, which the loops would reload.
      const int32_t* const channels = channels_.data();
      const int8_t* const tables = own_tables_.data();
      const size_t n = channels_.size();
      std::vector<int8_t> own(n);  // a row's other channels, taken first: y may be x's bytes (in place)
      for (int64_t r = r0; r < r1; ++r) {
        const int8_t* x = As<const int8_t>(t[x_]) + r * cols_;
        int8_t* y = As<int8_t>(t[y_]) + r * cols_;
        for (size_t i = 0; i < n; ++i) own[i] = tables[256 * i + static_cast<uint8_t>(x[channels[i]] ^ 0x80)];  // x + 128
        kernel_.fn(x, cols_, shared_, y);
        for (size_t i = 0; i < n; ++i) y[channels[i]] = own[i];
      }
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t rows_, cols_;
  std::vector<int32_t> channels_;
  std::vector<int8_t> own_tables_;  // 256 bytes per entry of channels_
  decltype(Lookup256For(Isa::kScalar)) kernel_;
  int8_t shared_[256];
};

// Channels on requants of their own, of C: beyond this share ChannelTables'
// scalar pass over them costs more than table_requant's vectors save.
constexpr int64_t kOwnTableShare = 8;  // 1 / 8

// The op for y = requant(table[x + 128]) with mult/shift of 1 or C entries:
// with one requant both steps are one byte table (every int8 through the
// scalar oracle), run as the lookup op runs; with one requant for most
// channels, ChannelTables; else the table and a requant.
Status MakeTableRequant(const OpContext& ctx, const int32_t* table, const flatbuffers::Vector<int32_t>* mult,
                        const flatbuffers::Vector<int8_t>* shift, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto n_mult = static_cast<int64_t>(mult->size());
  int8_t every[256];
  for (int v = 0; v < 256; ++v) every[v] = static_cast<int8_t>(v - 128);
  // Channel c's output for every int8, by the oracle.
  auto bytes_of = [&](int64_t c, int8_t* bytes) {
    kernels::table_requant_scalar(every, 1, 256, table, mult->data() + c, shift->data() + c, 1, bytes);
  };
  if (n_mult == 1) {
    int8_t bytes[256];
    bytes_of(0, bytes);
    *out = std::make_unique<Lookup>(ctx.input_id(0), ctx.output_id(0), x.numel, bytes, ctx.kernels().isa);
    return Status::Ok();
  }
  auto requant = [&](int64_t c) { return std::make_pair(mult->Get(c), shift->Get(c)); };
  struct Uses {
    int64_t channels = 0, first = 0;  // how many channels have the requant, and the first of them
  };
  std::map<std::pair<int32_t, int8_t>, Uses> uses;
  for (int64_t c = 0; c < n_mult; ++c) {
    Uses& u = uses[requant(c)];
    if (u.channels++ == 0) u.first = c;
  }
  const auto shared = std::max_element(uses.begin(), uses.end(), [](const auto& a, const auto& b) {
    return a.second.channels < b.second.channels;
  });
  if (kOwnTableShare * (n_mult - shared->second.channels) <= n_mult) {
    int8_t shared_bytes[256];
    bytes_of(shared->second.first, shared_bytes);
    std::vector<int32_t> channels;
    std::vector<int8_t> tables;
    for (int64_t c = 0; c < n_mult; ++c) {
      if (requant(c) == shared->first) continue;
      channels.push_back(static_cast<int32_t>(c));
      tables.resize(tables.size() + 256);
      bytes_of(c, tables.data() + tables.size() - 256);
    }
    *out = std::make_unique<ChannelTables>(ctx.input_id(0), ctx.output_id(0), Rows(x), LastDim(x), shared_bytes,
                                           std::move(channels), std::move(tables), ctx.kernels().isa);
    return Status::Ok();
  }
  *out = std::make_unique<TableRequant>(ctx.input_id(0), ctx.output_id(0), Rows(x), LastDim(x), table, mult->data(),
                                        shift->data(), n_mult, ctx.kernels().isa);
  return Status::Ok();
}

// One affine map of an I-LayerNorm: output tensor and its constants.
struct Affine {
  int y;
  const int32_t* mult;
  const int64_t* bias;
  int shift;
};

template <typename X, typename Y>
class ILayerNorm final : public Op {
 public:
  ILayerNorm(int x, int64_t rows, int64_t cols, bool rms, Affine a, Isa isa)
      : x_(x), rows_(rows), cols_(cols), rms_(rms), a_(a), kernel_(ILayerNormFor<X, Y>(isa)) {}
  std::string kernel() const override { return kernel_.name; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()), [&](int64_t r0, int64_t r1) {
      kernel_.fn(As<const X>(t[x_]) + r0 * cols_, r1 - r0, cols_, rms_, a_.mult, a_.bias, a_.shift,
                 As<Y>(t[a_.y]) + r0 * cols_);
    });
    return Status::Ok();
  }

 private:
  int x_;
  int64_t rows_, cols_;
  bool rms_;
  Affine a_;
  decltype(ILayerNormFor<X, Y>(Isa::kScalar)) kernel_;
};

// Two affine maps of one I-LayerNorm's statistics (a LayerNorm and its
// SmoothQuant twin): one pass of statistics where the ISA has the pair
// kernel (the statistics are the costly half), else the single kernel twice.
template <typename X, typename Y1, typename Y2>
class ILayerNormPair final : public Op {
 public:
  ILayerNormPair(int x, int64_t rows, int64_t cols, bool rms, Affine a, Affine b, Isa isa)
      : x_(x), rows_(rows), cols_(cols), rms_(rms), a_(a), b_(b), pair_(ILayerNormPairFor<X, Y1, Y2>(isa)),
        one_(ILayerNormFor<X, Y1>(isa)), two_(ILayerNormFor<X, Y2>(isa)) {}
  std::string kernel() const override { return pair_.fn ? pair_.name : std::string(one_.name) + "*2"; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(rows_, cols_, pool.threads()), [&](int64_t r0, int64_t r1) {
      const X* x = As<const X>(t[x_]) + r0 * cols_;
      Y1* y1 = As<Y1>(t[a_.y]) + r0 * cols_;
      Y2* y2 = As<Y2>(t[b_.y]) + r0 * cols_;
      if (pair_.fn) {
        pair_.fn(x, r1 - r0, cols_, rms_, a_.mult, a_.bias, a_.shift, y1, b_.mult, b_.bias, b_.shift, y2);
      } else {
        one_.fn(x, r1 - r0, cols_, rms_, a_.mult, a_.bias, a_.shift, y1);
        two_.fn(x, r1 - r0, cols_, rms_, b_.mult, b_.bias, b_.shift, y2);
      }
    });
    return Status::Ok();
  }

 private:
  int x_;
  int64_t rows_, cols_;
  bool rms_;
  Affine a_, b_;
  decltype(ILayerNormPairFor<X, Y1, Y2>(Isa::kScalar)) pair_;
  decltype(ILayerNormFor<X, Y1>(Isa::kScalar)) one_;
  decltype(ILayerNormFor<X, Y2>(Isa::kScalar)) two_;
};

template <typename X, typename Y>
class MeanPool final : public Op {
 public:
  MeanPool(int x, int y, int64_t outer, int64_t len, int64_t inner, int32_t mult, int shift)
      : x_(x), y_(y), outer_(outer), len_(len), inner_(inner), mult_(mult), shift_(shift) {}
  std::string kernel() const override { return "meanpool_scalar"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    kernels::meanpool_scalar(As<const X>(t[x_]), outer_, len_, inner_, mult_, shift_, As<Y>(t[y_]));
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t outer_, len_, inner_;
  int32_t mult_;
  int shift_;
};

}  // namespace

Status PrepareShiftmax(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ShiftmaxOptions();
  const int mask = ctx.input_id(1);
  const DType mask_type = mask >= 0 ? ctx.input(1).dtype : DType::UINT8;
  const Broadcast bc = mask >= 0 ? Broadcast(x, ctx.input(1)) : Broadcast(x, x);
  auto make = [&](auto tag) {
    *out = std::make_unique<Shiftmax<decltype(tag)>>(ctx.input_id(0), mask, ctx.output_id(0), mask_type,
                                                     mask >= 0 ? ctx.input(1).numel : 0, Rows(x), LastDim(x), bc,
                                                     o->multiplier(), o->shift(), ctx.kernels().isa);
  };
  if (x.dtype == DType::INT8) {
    make(int8_t{});
  } else {
    make(int32_t{});
  }
  return Status::Ok();
}

Status PrepareShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ShiftGeluOptions();
  *out = std::make_unique<ShiftGelu>(ctx.input_id(0), ctx.output_id(0), Rows(x), LastDim(x), o->x0(), o->multiplier(),
                                     o->shift());
  return Status::Ok();
}

Status PrepareLambdaShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_LambdaShiftGeluOptions();
  int32_t table[256];
  kernels::lambda_shiftgelu_table(o->slope_multiplier(), o->slope_shift(), table);
  return MakeTableRequant(ctx, table, o->multiplier(), o->shift(), out);
}

Status PrepareLookupRequant(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_LookupRequantOptions();
  return MakeTableRequant(ctx, As<const int32_t>(ctx.input(1).constant), o->multiplier(), o->shift(), out);
}

Status PrepareLookup(const OpContext& ctx, std::unique_ptr<Op>* out) {
  *out = std::make_unique<Lookup>(ctx.input_id(0), ctx.output_id(0), ctx.input(0).numel,
                                  As<const int8_t>(ctx.input(1).constant), ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareILayerNorm(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ILayerNormOptions();
  const int64_t rows = Rows(x), cols = LastDim(x);
  const bool rms = o->rms();
  auto affine = [&](int i) {
    return Affine{ctx.output_id(i), o->multiplier()->data() + i * cols, o->bias()->data() + i * cols,
                  o->shift()->Get(static_cast<flatbuffers::uoffset_t>(i))};
  };
  const Isa isa = ctx.kernels().isa;
  WithActType(x.dtype, [&](auto tx) {
    using X = decltype(tx);
    WithActType(ctx.output(0).dtype, [&](auto t1) {
      using Y1 = decltype(t1);
      if (ctx.num_outputs() == 1) {
        *out = std::make_unique<ILayerNorm<X, Y1>>(ctx.input_id(0), rows, cols, rms, affine(0), isa);
        return;
      }
      WithActType(ctx.output(1).dtype, [&](auto t2) {
        *out = std::make_unique<ILayerNormPair<X, Y1, decltype(t2)>>(ctx.input_id(0), rows, cols, rms, affine(0),
                                                                     affine(1), isa);
      });
    });
  });
  return Status::Ok();
}

Status PrepareMeanPool(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_MeanPoolOptions();
  const int axis = o->axis();
  WithIntType(x.dtype, [&](auto tx) {
    WithActType(ctx.output().dtype, [&](auto ty) {
      if constexpr (!std::is_same_v<decltype(tx), int32_t>) {  // the spec admits int8/int16/uint8 in
        *out = std::make_unique<MeanPool<decltype(tx), decltype(ty)>>(
            ctx.input_id(0), ctx.output_id(0), x.Span(0, axis), x.dim(axis), x.Span(axis + 1, x.rank), o->multiplier(),
            o->shift());
      }
    });
  });
  return Status::Ok();
}

}  // namespace intedge
