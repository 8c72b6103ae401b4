// libFuzzer target: any bytes, as a .ieg file, through everything the C API
// does with a file. First the bytes as they are (most stop at the header or
// the CRC); then the same bytes with the CRC made right, so the fuzzer
// explores the FlatBuffer, the graph and op checks, Prepare and Run behind
// it. Built with clang -fsanitize=fuzzer,address,undefined
// (run_fuzz.sh); the seeds are the committed corpus beside this file.
#include <cstdint>
#include <cstring>
#include <vector>

#include "intedge/intedge.h"
#include "src/format/crc32.h"

namespace {

constexpr size_t kCrcOffset = 56;

// Runs once at length s of the graph's dynamic dimension (bound: 0 when it has none, s ignored).
void RunOnce(ie_session* s, const uint8_t* data, size_t size, int64_t bound, int64_t length) {
  const int32_t n = ie_session_input_count(s);
  std::vector<ie_tensor> inputs(static_cast<size_t>(n));
  std::vector<std::vector<uint8_t>> storage(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    ie_tensor& t = inputs[static_cast<size_t>(i)];
    ie_session_input_info(s, i, &t);
    const uint32_t dynamic = bound ? ie_session_input_dynamic_axes(s, i) : 0u;
    int64_t numel = 1, numel_at_length = 1;
    for (int32_t a = 0; a < t.rank; ++a) {
      numel *= t.shape[a];
      if (dynamic >> a & 1u) t.shape[a] = t.shape[a] / bound * length;
      numel_at_length *= t.shape[a];
    }
    if (numel) t.bytes = t.bytes / static_cast<size_t>(numel) * static_cast<size_t>(numel_at_length);
    // The file's own bytes, repeated, as input values: NaNs, huge floats and out-of-range token ids included.
    auto& buf = storage[static_cast<size_t>(i)];
    buf.resize(t.bytes);
    for (size_t b = 0; b < t.bytes; ++b) buf[b] = size ? data[(b * 131 + static_cast<size_t>(i)) % size] : 0;
    t.data = buf.data();
  }
  char msg[256];
  ie_session_run(s, inputs.data(), n, msg, sizeof msg);
}

void OpenAndRun(const uint8_t* data, size_t size) {
  ie_session_options o;
  ie_session_options_init(&o);
  o.threads = 1;
  o.check_finite = 0;                 // let NaN and ±inf reach the quantizers
  o.max_arena_bytes = int64_t{64} << 20;  // a file may ask for any arena; the fuzzer's memory is bounded
  ie_session* s = nullptr;
  char msg[256];
  if (ie_session_open_buffer(data, size, &o, &s, msg, sizeof msg) != IE_OK) return;
  const int64_t bound = ie_session_dynamic_dim(s, nullptr);
  RunOnce(s, data, size, bound, bound);
  if (bound > 1) RunOnce(s, data, size, bound, 1 + (size ? data[size / 2] : 0) % bound);  // another length
  if (ie_session_state_count(s) > 0) {
    // State a caller restored (a saved KV cache): any bytes at all, then a run over them, then zeros again.
    for (int32_t i = 0; i < ie_session_state_count(s); ++i) {
      ie_tensor t;
      if (ie_session_state(s, i, &t) != IE_OK) continue;
      auto* bytes = static_cast<uint8_t*>(t.data);
      for (size_t b = 0; b < t.bytes; ++b) bytes[b] = size ? data[(b * 977 + static_cast<size_t>(i)) % size] : 0;
    }
    RunOnce(s, data, size, bound, bound);
    ie_session_reset_state(s);
  }
  ie_session_close(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char msg[256];
  ie_check_buffer(data, size, msg, sizeof msg);
  OpenAndRun(data, size);
  if (size < kCrcOffset + 4) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  std::memset(fixed.data() + kCrcOffset, 0, 4);
  const uint32_t crc = intedge::Crc32(0, fixed.data(), fixed.size());
  std::memcpy(fixed.data() + kCrcOffset, &crc, 4);
  ie_check_buffer(fixed.data(), fixed.size(), msg, sizeof msg);
  OpenAndRun(fixed.data(), fixed.size());
  return 0;
}
