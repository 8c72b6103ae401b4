// The engine through the C API on the committed fixture: open, describe,
// run, and the errors a caller can cause. Then every byte of the graph is
// flipped with the CRC recomputed, so each mutant passes the container
// checks and reaches the op checks: opening and running it must give OK or
// an error code with a message, never a crash (this runs under ASan + UBSan).
#include <cstring>
#include <vector>

#include "intedge/intedge.h"
#include "tests/check.h"

namespace {

// Zero-filled inputs of the declared shapes (token ids 0 are in range).
struct Inputs {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<ie_tensor> tensors;
};

Inputs ZeroInputs(ie_session* s) {
  Inputs in;
  const int32_t n = ie_session_input_count(s);
  in.storage.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    ie_tensor t;
    ie_session_input_info(s, i, &t);
    in.storage[static_cast<size_t>(i)].assign(t.bytes, 0);
    t.data = in.storage[static_cast<size_t>(i)].data();
    in.tensors.push_back(t);
  }
  return in;
}

// Opens and runs `bytes` on zero inputs; *outputs gets every output's bytes, one after another.
ie_status OpenAndRun(const std::vector<uint8_t>& bytes, char* msg, int threads, std::vector<uint8_t>* outputs = nullptr) {
  ie_session_options o;
  ie_session_options_init(&o);
  o.threads = threads;
  o.max_arena_bytes = int64_t{1} << 28;
  ie_session* s = nullptr;
  ie_status st = ie_session_open_buffer(bytes.data(), bytes.size(), &o, &s, msg, 256);
  if (st != IE_OK) return st;
  Inputs in = ZeroInputs(s);
  st = ie_session_run(s, in.tensors.data(), static_cast<int32_t>(in.tensors.size()), msg, 256);
  for (int32_t i = 0; st == IE_OK && outputs && i < ie_session_output_count(s); ++i) {
    ie_tensor t;
    ie_session_output(s, i, &t);
    outputs->insert(outputs->end(), static_cast<uint8_t*>(t.data), static_cast<uint8_t*>(t.data) + t.bytes);
  }
  ie_session_close(s);
  return st;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<uint8_t> file = intedge::test::ReadArgFile(argc, argv);
  if (file.empty()) return 2;
  char msg[256] = "";

  ie_session_options o;
  ie_session_options_init(&o);
  o.profile = 1;
  ie_session* s = nullptr;
  CHECK(ie_session_open_file(argv[1], &o, &s, msg, sizeof msg) == IE_OK && s);
  CHECK(ie_session_input_count(s) > 0 && ie_session_output_count(s) > 0);
  ie_tensor info;
  CHECK(ie_session_input_info(s, 0, &info) == IE_OK && info.name && info.bytes > 0);
  CHECK(ie_session_input_info(s, 99, &info) == IE_ERR_INVALID_ARGUMENT);
  CHECK(std::strlen(ie_session_isa(s)) > 0 && ie_session_threads(s) == 1);

  Inputs in = ZeroInputs(s);
  const auto n_in = static_cast<int32_t>(in.tensors.size());
  CHECK(ie_session_run(s, in.tensors.data(), n_in, msg, sizeof msg) == IE_OK);
  ie_tensor out;
  CHECK(ie_session_output(s, 0, &out) == IE_OK && out.data && out.bytes > 0);
  // Two runs give the same bytes.
  std::vector<uint8_t> first(static_cast<uint8_t*>(out.data), static_cast<uint8_t*>(out.data) + out.bytes);
  CHECK(ie_session_run(s, in.tensors.data(), n_in, msg, sizeof msg) == IE_OK);
  CHECK(std::memcmp(first.data(), out.data, out.bytes) == 0);
  ie_op_info op;
  CHECK(ie_session_op_info(s, 0, &op) == IE_OK && op.runs == 2 && std::strlen(op.kernel) > 0);

  // The caller's mistakes: a missing input, a wrong dtype, a wrong shape, a wrong name.
  CHECK(ie_session_run(s, in.tensors.data(), n_in - 1, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  std::vector<ie_tensor> bad(in.tensors);
  bad[0].dtype = bad[0].dtype == IE_FLOAT32 ? IE_INT8 : IE_FLOAT32;
  CHECK(ie_session_run(s, bad.data(), n_in, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT && std::strstr(msg, "expected"));
  bad = in.tensors;
  bad[0].shape[0] += 1;
  CHECK(ie_session_run(s, bad.data(), n_in, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  bad = in.tensors;
  bad[0].name = "no-such-input";
  CHECK(ie_session_run(s, bad.data(), n_in, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  CHECK(ie_session_run(nullptr, nullptr, 0, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  ie_session_close(s);
  ie_session_close(nullptr);

  // Bad options and files.
  o.threads = 0;
  CHECK(ie_session_open_file(argv[1], &o, &s, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT && !s);
  ie_session_options_init(&o);
  o.isa = "no-such-isa";
  CHECK(ie_session_open_file(argv[1], &o, &s, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  CHECK(ie_session_open_file("/no/such/file.ieg", nullptr, &s, msg, sizeof msg) == IE_ERR_INVALID_ARGUMENT);
  CHECK(ie_isa_supported("scalar") == 1 && ie_isa_supported("no-such-isa") == 0);

  // 1, 2 and 4 threads give the same bytes.
  std::vector<uint8_t> one;
  CHECK(OpenAndRun(file, msg, 1, &one) == IE_OK && !one.empty());
  for (int threads : {2, 4}) {
    std::vector<uint8_t> many;
    CHECK(OpenAndRun(file, msg, threads, &many) == IE_OK && many == one);
  }

  // run_copy: the outputs land in the caller's buffers, and too little room is an error.
  CHECK(ie_session_open_file(argv[1], nullptr, &s, msg, sizeof msg) == IE_OK);
  Inputs in2 = ZeroInputs(s);
  std::vector<ie_tensor> outs(static_cast<size_t>(ie_session_output_count(s)));
  std::vector<std::vector<uint8_t>> room(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    ie_session_output_info(s, static_cast<int32_t>(i), &outs[i]);
    room[i].assign(outs[i].bytes, 0xEE);
    outs[i].data = room[i].data();
  }
  CHECK(ie_session_run_copy(s, in2.tensors.data(), n_in, outs.data(), static_cast<int32_t>(outs.size()), msg,
                            sizeof msg) == IE_OK);
  std::vector<uint8_t> copied;
  for (const auto& r : room) copied.insert(copied.end(), r.begin(), r.end());
  CHECK(copied == one);
  outs[0].bytes -= 1;
  CHECK(ie_session_run_copy(s, in2.tensors.data(), n_in, outs.data(), static_cast<int32_t>(outs.size()), msg,
                            sizeof msg) == IE_ERR_INVALID_ARGUMENT && std::strstr(msg, "room"));
  ie_session_close(s);

  // The engine's verdict without a session agrees with opening one.
  CHECK(ie_check_buffer(file.data(), file.size(), msg, sizeof msg) == IE_OK);

  // Mutants past the CRC: each opens and runs, or fails cleanly with a message.
  int rejected = 0, accepted = 0;
  for (size_t i = 64; i < file.size(); ++i) {
    std::vector<uint8_t> mutant(file);
    mutant[i] ^= 0x5A;
    intedge::test::FixCrc(&mutant);
    msg[0] = '\0';
    const ie_status st = OpenAndRun(mutant, msg, 2);
    if (st == IE_OK) {
      ++accepted;
    } else {
      ++rejected;
      CHECK(std::strlen(msg) > 0);
    }
  }
  std::printf("graph mutants: %d rejected with a message, %d still valid\n", rejected, accepted);
  CHECK(rejected > 0);
  return intedge::test::Finish();
}
