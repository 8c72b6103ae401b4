// The checks an op passes before its Prepare runs, derived from the op spec
// (intedge/ir/opspec.py): the signature table and the rules are generated
// into op_checks_generated.cc; op_checks.cc holds the generic part and the
// spec language's data helpers. The Python validator (intedge/ir/validate.py)
// runs the same checks in the same order and prints the same messages.
#pragma once

#include <cstdint>

#include "ops/op.h"
#include "ops/spec_support.h"

namespace intedge {

struct RoleSignature {
  const char* name;
  uint32_t dtypes;  // bit d set: DType d allowed
  bool constant;    // must be a constant
  bool optional;    // may be absent
};

struct OpSignature {
  const char* kind;          // the spec's name, e.g. "qlinear"
  ir::fb::OpOptions options; // the option table the op carries (NONE: none)
  int min_inputs, max_inputs;  // max_inputs -1: one `many` role, any number of tensors
  int roles;
  RoleSignature role[6];     // the most inputs a kind has (cached_attention)
  const char* output;        // the output role's name
  uint32_t output_dtypes;    // 0: the op's rules give the one dtype (an expression)
  int max_outputs;
  // Whether the op's int64 option vectors are 8-byte aligned (null: it has none). The FlatBuffers
  // verifier checks a vector's 4-byte length prefix only, and kernels read these in place.
  bool (*long_vectors_aligned)(const ir::fb::Op& op);
};

// A vector of int64 that may be read in place: absent, or 8-byte aligned.
template <typename V>
bool Aligned8(const V* v) {
  return !v || reinterpret_cast<uintptr_t>(v->data()) % 8 == 0;
}

// The signature of an op kind, or null for a code the spec does not define.
const OpSignature* SignatureOf(ir::fb::OpKind kind);

// Every check of one op: arity, input dtypes and constness, output dtypes,
// then its rules and output shapes (the generated part).
Status CheckOp(const OpContext& ctx);
// The generated part alone (op_checks_generated.cc).
Status CheckOpRules(const OpContext& ctx);

}  // namespace intedge
