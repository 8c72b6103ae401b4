// State tensors (format 2.2): the container verifier's and the graph checks'
// rules on small graphs built here, with the words intedge/ir/validate.py
// uses (tests/test_state_tensors.py compares the two on the same files);
// the memory plan's slots for them; and a session's state through the C
// API: zeros at open, kept across runs, written and zeroed by the caller.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/memory_plan.h"
#include "ieg_generated.h"
#include "intedge/intedge.h"
#include "tests/check.h"

namespace {

namespace fb = intedge::ir::fb;

struct TensorSpec {
  TensorSpec(const char* n, fb::DType d, std::vector<int64_t> s, bool st = false)
      : name(n), dtype(d), shape(std::move(s)), state(st) {}
  const char* name;
  fb::DType dtype;
  std::vector<int64_t> shape;
  bool state;
  bool constant = false;  // its data: zeros, at offset 0 of the data section
  std::vector<int32_t> dynamic_axes;
};

struct OpSpec {
  fb::OpKind kind;
  std::vector<int32_t> inputs, outputs;
};

// A whole .ieg image (header, graph, data section, CRC) of these tensors and ops. Requant ops get
// options that pass their rules; cached_attention ops get theirs.
std::vector<uint8_t> File(const std::vector<TensorSpec>& tensors, const std::vector<OpSpec>& ops,
                          const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs, int64_t bound = 0) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Tensor>> ts;
  for (const TensorSpec& t : tensors) {
    int64_t bytes = t.dtype == fb::DType::INT16 ? 2 : t.dtype == fb::DType::INT32 ? 4 : 1;
    for (int64_t d : t.shape) bytes *= d;
    const auto axes = t.dynamic_axes.empty() ? 0 : b.CreateVector(t.dynamic_axes);
    ts.push_back(fb::CreateTensor(b, b.CreateString(t.name), t.dtype, b.CreateVector(t.shape), 0.05, t.constant, 0,
                                  t.constant ? static_cast<uint64_t>(bytes) : 0, axes, t.state));
  }
  std::vector<flatbuffers::Offset<fb::Op>> os;
  for (const OpSpec& op : ops) {
    auto type = fb::OpOptions::NONE;
    flatbuffers::Offset<void> options = 0;
    if (op.kind == fb::OpKind::REQUANT) {
      type = fb::OpOptions::RequantOptions;
      options = fb::CreateRequantOptions(b, 1 << 30, 31).Union();
    } else if (op.kind == fb::OpKind::CACHED_ATTENTION) {
      type = fb::OpOptions::CachedAttentionOptions;
      options = fb::CreateCachedAttentionOptions(b, 1 << 20, 30, 1 << 20, 30).Union();
    }
    os.push_back(fb::CreateOp(b, op.kind, 0, b.CreateVector(op.inputs), b.CreateVector(op.outputs), type, options));
  }
  const auto dyn = bound ? fb::CreateDynamicDim(b, b.CreateString("tokens"), bound) : 0;
  fb::FinishGraphBuffer(b, fb::CreateGraph(b, b.CreateString("state"), b.CreateVector(ts), b.CreateVector(os),
                                           b.CreateVector(inputs), b.CreateVector(outputs), 0, dyn));
  const size_t graph_size = b.GetSize();
  const size_t data_offset = (64 + graph_size + 63) / 64 * 64, data_size = 256;  // room for any constant here
  std::vector<uint8_t> file(data_offset + data_size, 0);
  const uint8_t magic[8] = {0x89, 'I', 'E', 'G', '\r', '\n', 0x1A, '\n'};
  std::memcpy(file.data(), magic, 8);
  auto put = [&](size_t at, auto v) { std::memcpy(file.data() + at, &v, sizeof v); };
  put(8, uint16_t{2});
  put(10, uint16_t{2});
  put(12, uint32_t{64});
  put(16, uint64_t{64});
  put(24, uint64_t{graph_size});
  put(32, uint64_t{data_offset});
  put(40, uint64_t{data_size});
  put(48, uint64_t{file.size()});
  std::memcpy(file.data() + 64, b.GetBufferPointer(), graph_size);
  intedge::test::FixCrc(&file);
  return file;
}

// The container verifier's message, or "" when it accepts the file.
std::string Verified(const std::vector<uint8_t>& file) {
  char msg[256] = "";
  return ie_verify_buffer(file.data(), file.size(), msg, sizeof msg) == IE_OK ? "" : msg;
}

// The engine's whole verdict (container, graph, op checks), or "" when it accepts the file.
std::string Checked(const std::vector<uint8_t>& file) {
  char msg[256] = "";
  return ie_check_buffer(file.data(), file.size(), msg, sizeof msg) == IE_OK ? "" : msg;
}

bool Says(const std::string& message, const char* want) {
  if (message == want) return true;
  std::printf("  got:  %s\n  want: %s\n", message.c_str(), want);
  return false;
}

constexpr auto I8 = fb::DType::INT8;
constexpr auto I32 = fb::DType::INT32;

// x --requant--> y, beside a state tensor s (tensor 2) that no op reads: a valid graph that opens without the
// decoder ops.
std::vector<TensorSpec> Base() { return {{"x", I32, {2, 8}}, {"y", I8, {2, 8}}, {"s", I8, {3, 100}, true}}; }
const std::vector<OpSpec> kRequant = {{fb::OpKind::REQUANT, {0}, {1}}};

void VerifierRules() {
  CHECK(Says(Checked(File(Base(), kRequant, {0}, {1})), ""));
  auto t = Base();
  t[2].constant = true;
  CHECK(Says(Verified(File(t, kRequant, {0}, {1})), "tensor 2: a state tensor holds no data"));
  t = Base();
  t[2].dynamic_axes = {1};
  CHECK(Says(Verified(File(t, kRequant, {0}, {1}, 100)), "tensor 2: a state tensor has a fixed shape and is not int4"));
  // int4 activations are refused before the state rules look (validate.py's order too)
  t = Base();
  t[2].dtype = fb::DType::INT4;
  CHECK(Says(Verified(File(t, kRequant, {0}, {1})), "tensor 2: int4 tensors must be constants"));
}

void GraphRules() {
  CHECK(Says(Checked(File(Base(), kRequant, {0, 2}, {1})), "graph input: tensor 's' is a state tensor"));
  CHECK(Says(Checked(File(Base(), kRequant, {0}, {1, 2})), "graph output: tensor 's' is a state tensor"));
  // an op writing a state tensor: it exists from the start, as a constant does
  CHECK(Says(Checked(File(Base(), {{fb::OpKind::REQUANT, {0}, {2}}}, {0}, {2})),
             "graph output: tensor 's' is a state tensor"));
  CHECK(Says(Checked(File(Base(), {{fb::OpKind::REQUANT, {0}, {2}}}, {0}, {})), "op 0: tensor 's' is written twice"));
  // two readers: refused before either op's own checks
  auto t = Base();
  t.push_back({"z", I8, {3, 100}});
  t.push_back({"w", I8, {3, 100}});
  CHECK(Says(Checked(File(t, {{fb::OpKind::REQUANT, {2}, {3}}, {fb::OpKind::REQUANT, {2}, {4}}}, {}, {3, 4})),
             "op 1: state tensor 's' is read by a second op input"));
  // one reader, in a role that takes no state
  CHECK(Says(Checked(File(t, {{fb::OpKind::REQUANT, {2}, {3}}}, {}, {3})),
             "op 0 (requant): x 's' is a state tensor, which only a cache input may take"));
}

// cached_attention: q [4, 3, 8], k and v [2, 3, 8], positions [3], caches [2, 5, 8] → y [3, 32].
std::vector<TensorSpec> Attention(bool state_caches) {
  return {{"q", I8, {4, 3, 8}},          {"k", I8, {2, 3, 8}},
          {"v", I8, {2, 3, 8}},          {"positions", I32, {3}},
          {"kc", I8, {2, 5, 8}, state_caches}, {"vc", I8, {2, 5, 8}, true},
          {"y", I8, {3, 32}}};
}
const std::vector<OpSpec> kAttention = {{fb::OpKind::CACHED_ATTENTION, {0, 1, 2, 3, 4, 5}, {6}}};

void OpRules() {
  CHECK(Says(Checked(File(Attention(true), kAttention, {0, 1, 2, 3}, {6})), ""));
  CHECK(Says(Checked(File(Attention(false), kAttention, {0, 1, 2, 3, 4}, {6})),
             "op 0 (cached_attention): k_cache 'kc' must be a state tensor"));
  // the caches' rows: the op's own rules see a state tensor's shape as any other's
  auto t = Attention(true);
  t[5].shape = {2, 6, 8};
  CHECK(Says(Checked(File(t, kAttention, {0, 1, 2, 3}, {6})), "op 0 (cached_attention): the caches must be [2, T, 8]"));
}

void Plan() {
  // t0 → op 0 → t1 → op 1 → t2, with state tensors 3 (read by op 1) and 4 (read by none)
  std::vector<intedge::PlanOp> ops(2);
  ops[0].inputs = {0};
  ops[0].outputs = {1};
  ops[1].inputs = {1, 3};
  ops[1].outputs = {2};
  ops[1].in_place = true;
  const std::vector<int64_t> bytes = {100, 100, 100, 70, 10};
  const std::vector<bool> constant(5, false), state = {false, false, false, true, true};
  const intedge::MemoryPlan p = intedge::PlanMemory(ops, bytes, constant, state, {0}, {2});
  CHECK(p.state_bytes == 128 + 64 && p.offset[3] == 0 && p.offset[4] == 128);  // 64-byte aligned slots
  CHECK(p.root[3] == 3 && p.root[4] == 4);
  for (int t : {0, 1, 2}) CHECK(p.offset[static_cast<size_t>(p.root[static_cast<size_t>(t)])] >= p.state_bytes);
  // t0 and t1 overlap at op 0; t2 takes t1's bytes in place (the state beside it does not stop that)
  CHECK(p.root[2] == 1 && p.arena_bytes == p.state_bytes + 2 * 128 && p.naive_bytes == p.arena_bytes);
}

void Session() {
  const std::vector<uint8_t> file = File(Base(), kRequant, {0}, {1});
  char msg[256] = "";
  ie_session* s = nullptr;
  CHECK(ie_session_open_buffer(file.data(), file.size(), nullptr, &s, msg, sizeof msg) == IE_OK && s);
  if (!s) return;
  CHECK(ie_session_state_count(s) == 1 && ie_session_state_bytes(s) == 320);
  CHECK(ie_session_arena_bytes(s) >= ie_session_state_bytes(s) + 64);
  ie_tensor st;
  CHECK(ie_session_state(s, 1, &st) == IE_ERR_INVALID_ARGUMENT && ie_session_state(s, 0, nullptr) != IE_OK);
  CHECK(ie_session_state(s, 0, &st) == IE_OK && std::strcmp(st.name, "s") == 0 && st.bytes == 300 && st.rank == 2);
  auto* bytes = static_cast<uint8_t*>(st.data);
  const std::vector<uint8_t> zeros(st.bytes, 0);
  CHECK(std::memcmp(bytes, zeros.data(), st.bytes) == 0);  // zeros when the session opens
  std::memset(bytes, 7, st.bytes);
  std::vector<int32_t> x(16, 1 << 20);
  ie_tensor in;
  ie_session_input_info(s, 0, &in);
  in.data = x.data();
  CHECK(ie_session_run(s, &in, 1, msg, sizeof msg) == IE_OK);
  ie_tensor out;
  CHECK(ie_session_output(s, 0, &out) == IE_OK);
  const auto* o = static_cast<const uint8_t*>(out.data);
  CHECK(o + out.bytes <= bytes || o >= bytes + st.bytes);  // the state's slot is its own
  CHECK(bytes[0] == 7 && bytes[st.bytes - 1] == 7);        // a run leaves the state as it was
  CHECK(ie_session_reset_state(s) == IE_OK && std::memcmp(bytes, zeros.data(), st.bytes) == 0);
  CHECK(ie_session_reset_state(nullptr) == IE_ERR_INVALID_ARGUMENT && ie_session_state_count(nullptr) == 0);
  ie_session_close(s);
  // a limit on the arena counts the state too
  ie_session_options opt;
  ie_session_options_init(&opt);
  opt.max_arena_bytes = 320;
  CHECK(ie_session_open_buffer(file.data(), file.size(), &opt, &s, msg, sizeof msg) == IE_ERR_OUT_OF_MEMORY);
}

}  // namespace

int main() {
  uint16_t major = 0, minor = 0;
  ie_format_version(&major, &minor);
  CHECK(major == 2 && minor == 2);
  VerifierRules();
  GraphRules();
  OpRules();
  Plan();
  Session();
  return intedge::test::Finish();
}
