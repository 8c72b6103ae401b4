// intedge-bench: load a .ieg, run it N times, print latency percentiles,
// per-op times and memory as one JSON object. No Python: this is what a
// board or a phone runs (over ssh or adb) with the C API alone.
//
//   intedge-bench model.ieg [--runs 50] [--warmup 5] [--threads 1] [--isa avx512vnni] [--no-ops]
//                           [--inputs in.bin] [--outputs out.bin]
//
// Inputs are synthetic and deterministic: floats uniform in [-1, 1], int8/uint8
// tensors (attention masks) all 1, integer ids 0 (the [PAD] token, always in
// range). --inputs reads them instead, as every input's bytes in graph order;
// --outputs writes every output's bytes of the last run the same way, so a
// board's results can be compared with the reference executor's.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "intedge/intedge.h"

namespace {

struct Args {
  const char* model = nullptr;
  int runs = 50, warmup = 5, threads = 1;
  const char* isa = nullptr;
  const char* inputs = nullptr;
  const char* outputs = nullptr;
  bool ops = true;
};

int Usage(const char* argv0, FILE* to = stderr, int code = 2) {
  std::fprintf(to,
               "usage: %s MODEL.ieg [--runs N] [--warmup N] [--threads N] [--isa NAME] [--no-ops]\n"
               "                 [--inputs IN.bin] [--outputs OUT.bin]\n"
               "Runs the graph N times after warm-up and prints one JSON object: latency percentiles (ms),\n"
               "per-op mean times (us), arena and weight bytes, and the process's peak resident memory.\n"
               "--inputs: every input's raw bytes in graph order (default: synthetic); --outputs: write every\n"
               "output's raw bytes of the last run in graph order.\n",
               argv0);
  return code;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](int* out) {
      if (i + 1 >= argc) return false;
      char* end;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end || v < 0 || v > 1000000) return false;
      *out = static_cast<int>(v);
      return true;
    };
    if (arg == "--runs") {
      if (!value(&a->runs) || a->runs < 1) return false;
    } else if (arg == "--warmup") {
      if (!value(&a->warmup)) return false;
    } else if (arg == "--threads") {
      if (!value(&a->threads)) return false;
    } else if (arg == "--isa" && i + 1 < argc) {
      a->isa = argv[++i];
    } else if (arg == "--inputs" && i + 1 < argc) {
      a->inputs = argv[++i];
    } else if (arg == "--outputs" && i + 1 < argc) {
      a->outputs = argv[++i];
    } else if (arg == "--no-ops") {
      a->ops = false;
    } else if (!a->model && arg[0] != '-') {
      a->model = argv[i];
    } else {
      return false;
    }
  }
  return a->model != nullptr;
}

void Fill(ie_tensor* t, std::vector<uint8_t>* storage) {
  storage->assign(t->bytes, 0);
  t->data = storage->data();
  const size_t n = t->bytes;
  if (t->dtype == IE_FLOAT32) {
    auto* f = reinterpret_cast<float*>(storage->data());
    uint32_t state = 12345;
    for (size_t i = 0; i < n / 4; ++i) {
      state = state * 1664525u + 1013904223u;
      f[i] = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
    }
  } else if (t->dtype == IE_INT8 || t->dtype == IE_UINT8) {
    std::fill(storage->begin(), storage->end(), uint8_t{1});
  }
}

std::string JsonString(const char* s) {
  std::string out = "\"";
  for (const char* p = s; *p; ++p) {
    if (*p == '"' || *p == '\\') out += '\\';
    if (static_cast<unsigned char>(*p) >= 0x20) out += *p;
  }
  return out + "\"";
}

// Reads `path` into the inputs' storage: exactly the sum of their sizes.
bool ReadInputs(const char* path, std::vector<std::vector<uint8_t>>* storage) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  bool ok = true;
  for (auto& s : *storage) ok = ok && std::fread(s.data(), 1, s.size(), f) == s.size();
  ok = ok && std::fgetc(f) == EOF;
  std::fclose(f);
  return ok;
}

bool WriteOutputs(const char* path, ie_session* s) {
  FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  bool ok = true;
  for (int32_t i = 0; i < ie_session_output_count(s); ++i) {
    ie_tensor t;
    ok = ok && ie_session_output(s, i, &t) == IE_OK && std::fwrite(t.data, 1, t.bytes, f) == t.bytes;
  }
  return std::fclose(f) == 0 && ok;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    return Usage(argv[0], stdout, 0);
  }
  if (!ParseArgs(argc, argv, &args)) return Usage(argv[0]);
  ie_session_options o;
  ie_session_options_init(&o);
  o.threads = args.threads;
  o.isa = args.isa;
  o.profile = args.ops ? 1 : 0;
  char msg[1024];
  ie_session* s = nullptr;
  if (ie_session_open_file(args.model, &o, &s, msg, sizeof msg) != IE_OK) {
    std::fprintf(stderr, "intedge-bench: %s\n", msg);
    return 1;
  }
  const int32_t n_in = ie_session_input_count(s);
  std::vector<ie_tensor> inputs(static_cast<size_t>(n_in));
  std::vector<std::vector<uint8_t>> storage(static_cast<size_t>(n_in));
  for (int32_t i = 0; i < n_in; ++i) {
    ie_session_input_info(s, i, &inputs[static_cast<size_t>(i)]);
    Fill(&inputs[static_cast<size_t>(i)], &storage[static_cast<size_t>(i)]);
  }
  if (args.inputs && !ReadInputs(args.inputs, &storage)) {
    std::fprintf(stderr, "intedge-bench: %s must hold exactly the inputs' bytes, in graph order\n", args.inputs);
    ie_session_close(s);
    return 1;
  }
  std::vector<double> ms;
  for (int r = 0; r < args.warmup + args.runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (ie_session_run(s, inputs.data(), n_in, msg, sizeof msg) != IE_OK) {
      std::fprintf(stderr, "intedge-bench: run failed: %s\n", msg);
      ie_session_close(s);
      return 1;
    }
    const double dt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (r >= args.warmup) ms.push_back(dt);
  }
  if (args.outputs && !WriteOutputs(args.outputs, s)) {
    std::fprintf(stderr, "intedge-bench: cannot write %s\n", args.outputs);
    ie_session_close(s);
    return 1;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double mean = 0;
  for (double v : ms) mean += v / static_cast<double>(ms.size());
  std::printf("{\"model\": %s, \"isa\": %s, \"threads\": %d, \"runs\": %d, ", JsonString(args.model).c_str(),
              JsonString(ie_session_isa(s)).c_str(), ie_session_threads(s), args.runs);
  std::printf("\"latency_ms\": {\"median\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"min\": %.4f, \"mean\": %.4f}, ",
              Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 0.99), Percentile(ms, 0.0), mean);
  std::printf("\"arena_bytes\": %zu, \"weight_bytes\": %zu, \"peak_rss_bytes\": %ld", ie_session_arena_bytes(s),
              ie_session_weight_bytes(s), static_cast<long>(usage.ru_maxrss) * 1024);
  if (args.ops) {
    std::printf(", \"ops\": [");
    for (int32_t k = 0; k < ie_session_op_count(s); ++k) {
      ie_op_info op;
      ie_session_op_info(s, k, &op);
      std::printf("%s{\"kind\": %s, \"name\": %s, \"kernel\": %s, \"mean_us\": %.3f}", k ? ", " : "",
                  JsonString(op.kind).c_str(), JsonString(op.name).c_str(), JsonString(op.kernel).c_str(),
                  op.runs ? op.total_us / static_cast<double>(op.runs) : 0.0);
    }
    std::printf("]");
  }
  std::printf("}\n");
  ie_session_close(s);
  return 0;
}
