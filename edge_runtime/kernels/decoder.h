// What the decoder ops do around their kernels, shared by the engine's ops
// (src/ops/decoder_ops.cc) and the Python bindings (which run the scalar
// oracle): the run-time position checks, in integer_ops/decoder.py's words,
// and cached attention (integer_ops/decoder.py cached_attention) composed
// from one ISA's kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace intedge {

// rope's error for a position outside its tables' P rows.
std::string RopePositionError(int64_t P);

// p = positions[0], after checking that positions [S] are p, p+1, … and
// p + S ≤ T; else −1, with cache_start's IndexError words in *error.
int64_t CacheStart(const int32_t* positions, int64_t S, int64_t T, std::string* error);

// One cached_attention: q [Hq, S, D], k, v [Hkv, S, D], the caches
// [Hkv, T, D], y [S, Hq·D]; the scores' and the output's requants.
struct AttentionShape {
  int64_t q_heads = 0, kv_heads = 0, S = 0, D = 0, T = 0;
  int32_t mult = 0, out_mult = 0;
  int shift = 1, out_shift = 1;
};

struct AttentionKernels {
  Kernel<decltype(&kernels::attention_scores_scalar)> scores;
  Kernel<ShiftmaxFn<int32_t>> shiftmax;
  Kernel<decltype(&kernels::attention_values_scalar)> values;
};
AttentionKernels AttentionFor(Isa isa);

// Writes k and v into rows p … p+S−1 of the caches.
void WriteCache(const AttentionShape& a, const int8_t* k, const int8_t* v, int64_t p, int8_t* k_cache,
                int8_t* v_cache);

// Query rows [i0, i1) of query head h, after WriteCache: the causal scores
// over the cache's rows 0 … p+i, Shiftmax, P·V, into y[i, h·D … h·D+D−1].
// Rows of any split give the same bytes (each row is computed alone), so
// threads may take any share. scores and probs are the caller's scratch.
void AttendRows(const AttentionKernels& k, const AttentionShape& a, const int8_t* q, const int8_t* k_cache,
                const int8_t* v_cache, int64_t p, int64_t h, int64_t i0, int64_t i1, std::vector<int32_t>* scores,
                std::vector<uint8_t>* probs, int8_t* y);

}  // namespace intedge
