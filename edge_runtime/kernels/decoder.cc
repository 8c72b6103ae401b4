// The decoder ops' shared parts (kernels/decoder.h): compiled with the baseline flags, they only
// call the kernels an ISA was given.
#include "kernels/decoder.h"

#include <algorithm>
#include <cstring>

namespace intedge {

std::string RopePositionError(int64_t P) {
  const std::string p = std::to_string(P);
  return "a position is outside [0, " + p + "): the tables cover " + p + " positions";
}

int64_t CacheStart(const int32_t* positions, int64_t S, int64_t T, std::string* error) {
  const int64_t p = positions[0];
  bool ok = p >= 0 && p + S <= T;
  for (int64_t i = 1; ok && i < S; ++i) ok = positions[i] == p + i;
  if (ok) return p;
  // Python's list of the first four, then an ellipsis where there are more.
  std::string shown = "[";
  for (int64_t i = 0; i < std::min<int64_t>(S, 4); ++i) shown += (i ? ", " : "") + std::to_string(positions[i]);
  shown += S > 4 ? "]\u2026" : "]";
  *error = "positions must be consecutive and within the cache's " + std::to_string(T) + " rows, got " + shown +
           " for " + std::to_string(S) + " tokens";
  return -1;
}

AttentionKernels AttentionFor(Isa isa) {
  return {AttentionScoresFor(isa), ShiftmaxFor<int32_t>(isa), AttentionValuesFor(isa)};
}

void WriteCache(const AttentionShape& a, const int8_t* k, const int8_t* v, int64_t p, int8_t* k_cache,
                int8_t* v_cache) {
  const auto bytes = static_cast<size_t>(a.S * a.D);
  for (int64_t g = 0; g < a.kv_heads; ++g) {
    std::memcpy(k_cache + (g * a.T + p) * a.D, k + g * a.S * a.D, bytes);
    std::memcpy(v_cache + (g * a.T + p) * a.D, v + g * a.S * a.D, bytes);
  }
}

namespace {
// Query rows per kernel call: the scores kernel takes a block (its rows of
// one length plus one each), Shiftmax a row at a time (a causal row is a
// shorter row: with the masked keys' zeros after it, the same bytes as the
// masked definition, whose masked elements are 0 and take no part in the
// maximum or the sum).
constexpr int64_t kQueryBlock = 8;
}  // namespace

void AttendRows(const AttentionKernels& k, const AttentionShape& a, const int8_t* q, const int8_t* k_cache,
                const int8_t* v_cache, int64_t p, int64_t h, int64_t i0, int64_t i1, std::vector<int32_t>* scores,
                std::vector<uint8_t>* probs, int8_t* y) {
  const int64_t g = h / (a.q_heads / a.kv_heads);  // grouped-query attention: this head's kv head
  const int8_t* keys = k_cache + g * a.T * a.D;
  const int8_t* values = v_cache + g * a.T * a.D;
  for (int64_t b0 = i0; b0 < i1; b0 += kQueryBlock) {
    const int64_t rows = std::min(kQueryBlock, i1 - b0), len0 = p + b0 + 1;
    const int64_t ld = len0 + rows - 1;  // the block's longest row
    scores->resize(static_cast<size_t>(rows * ld));
    probs->resize(scores->size());
    k.scores.fn(q + (h * a.S + b0) * a.D, rows, keys, len0, a.D, scores->data(), ld);
    for (int64_t r = 0; r < rows; ++r) {
      k.shiftmax.fn(scores->data() + r * ld, ld, nullptr, 1, len0 + r, a.mult, a.shift, probs->data() + r * ld);
    }
    k.values.fn(probs->data(), ld, rows, values, len0, a.D, a.out_mult, a.out_shift,
                y + b0 * a.q_heads * a.D + h * a.D, a.q_heads * a.D);
  }
}

}  // namespace intedge
