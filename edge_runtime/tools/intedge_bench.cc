// intedge-bench: load a .ieg, run it N times, print latency percentiles,
// per-op times and memory as one JSON object (schema: docs/profiling.md).
// No Python: this is what a board or a phone runs (`intedge profile` pushes
// it over ssh or adb) with the C API alone.
//
//   intedge-bench model.ieg [--runs 50] [--warmup 5] [--threads 1] [--isa avx512vnni] [--no-ops]
//                           [--inputs in.bin] [--outputs out.bin] [--min-seconds S] [--progress]
//                           [--sample FILE|!COMMAND ... [--sample-period-ms 20] [--idle-ms 1000]]
//
// Inputs are synthetic and deterministic: floats uniform in [-1, 1], int8/uint8
// tensors (attention masks) all 1, integer ids 0 (the [PAD] token, always in
// range). --inputs reads them instead, as every input's bytes in graph order;
// --outputs writes every output's bytes of the last run the same way, so a
// board's results can be compared with the reference executor's.
//
// --sample (repeated) records a file's integer, or a command's (!COMMAND), on
// a thread every period: for --idle-ms with the engine loaded and idle, then
// through the warm-up and the timed runs; the JSON gives every row and the
// windows. These are power sensors; intedge.profilers.energy says which.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "file_sampler.h"
#include "intedge/intedge.h"

namespace {

struct Args {
  const char* model = nullptr;
  int runs = 50, warmup = 5, threads = 1;
  int sample_period_ms = 20, idle_ms = 1000, min_ms = 0;
  const char* isa = nullptr;
  const char* inputs = nullptr;
  const char* outputs = nullptr;
  std::vector<std::string> sample_files;
  bool ops = true, progress = false;
};

int Usage(const char* argv0, FILE* to = stderr, int code = 2) {
  std::fprintf(to,
               "usage: %s MODEL.ieg [--runs N] [--warmup N] [--threads N] [--isa NAME] [--no-ops]\n"
               "                 [--inputs IN.bin] [--outputs OUT.bin] [--min-seconds S] [--progress]\n"
               "                 [--sample FILE|!COMMAND ... [--sample-period-ms N] [--idle-ms N]]\n"
               "Runs the graph N times after warm-up and prints one JSON object: latency percentiles (ms),\n"
               "per-op mean times over the timed runs (us), the model's, weights', arena's and process's memory,\n"
               "and page faults.\n"
               "--inputs: every input's raw bytes in graph order (default: synthetic); --outputs: write every\n"
               "output's raw bytes of the last run in graph order. --min-seconds: keep running past N runs\n"
               "until the timed runs last S seconds. --progress: 'progress PHASE FRACTION' lines on stderr.\n"
               "--sample (repeat it): a file holding one integer (a power sensor), or !COMMAND printing one, read\n"
               "every period (default 20 ms) on a thread: for --idle-ms (default 1000) before the warm-up, then\n"
               "through the runs.\n",
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
    } else if (arg == "--progress") {
      a->progress = true;
    } else if (arg == "--min-seconds" && i + 1 < argc) {
      char* end;
      const double seconds = std::strtod(argv[++i], &end);
      if (*end || !(seconds >= 0 && seconds <= 86400)) return false;
      a->min_ms = static_cast<int>(seconds * 1000);
    } else if (arg == "--sample-period-ms") {
      if (!value(&a->sample_period_ms) || a->sample_period_ms < 1) return false;
    } else if (arg == "--idle-ms") {
      if (!value(&a->idle_ms)) return false;
    } else if (arg == "--sample" && i + 1 < argc) {
      a->sample_files.push_back(argv[++i]);
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

// Progress for a driver's progress bar: at most a few lines a second on stderr.
class Progress {
 public:
  explicit Progress(bool on) : on_(on) {}
  void Report(const char* phase, double fraction) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    std::fprintf(stderr, "progress %s %.3f\n", phase, std::min(fraction, 1.0));
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_{};
};

void PrintLatency(const std::vector<double>& ms) {
  double mean = 0, var = 0;
  for (double v : ms) mean += v / static_cast<double>(ms.size());
  for (double v : ms) var += (v - mean) * (v - mean) / static_cast<double>(ms.size());
  std::printf("\"latency_ms\": {\"median\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"min\": %.4f, \"max\": %.4f, "
              "\"mean\": %.4f, \"stdev\": %.4f, \"samples\": [",
              Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 0.99), Percentile(ms, 0.0),
              Percentile(ms, 1.0), mean, std::sqrt(var));
  for (size_t i = 0; i < ms.size(); ++i) std::printf("%s%.4f", i ? ", " : "", ms[i]);
  std::printf("]}");
}

void PrintSampling(const FileSampler& sampler, double idle_from, double idle_to, double run_from, double run_to) {
  std::printf(", \"sampling\": {\"files\": [");
  for (size_t i = 0; i < sampler.files().size(); ++i) {
    std::printf("%s%s", i ? ", " : "", JsonString(sampler.files()[i].c_str()).c_str());
  }
  std::printf("], \"period_ms\": %d, \"idle_s\": [%.6f, %.6f], \"run_s\": [%.6f, %.6f], \"failed_reads\": %lld, "
              "\"t_s\": [",
              sampler.period_ms(), idle_from, idle_to, run_from, run_to,
              static_cast<long long>(sampler.failed_reads()));
  const size_t width = sampler.files().size();
  for (size_t r = 0; r < sampler.times().size(); ++r) std::printf("%s%.6f", r ? ", " : "", sampler.times()[r]);
  std::printf("], \"values\": [");
  for (size_t r = 0; r < sampler.times().size(); ++r) {
    std::printf("%s[", r ? ", " : "");
    for (size_t c = 0; c < width; ++c) {
      std::printf("%s%lld", c ? ", " : "", static_cast<long long>(sampler.values()[r * width + c]));
    }
    std::printf("]");
  }
  std::printf("]}");
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    return Usage(argv[0], stdout, 0);
  }
  if (!ParseArgs(argc, argv, &args)) return Usage(argv[0]);
  FileSampler sampler;
  std::string sampler_error;
  if (!sampler.Open(args.sample_files, args.sample_period_ms, &sampler_error)) {
    std::fprintf(stderr, "intedge-bench: --sample: %s\n", sampler_error.c_str());
    return 1;
  }
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
  Progress progress(args.progress);
  const bool sampling = !args.sample_files.empty();
  double idle_from = 0, idle_to = 0;
  if (sampling) {
    sampler.Start();
    sampler.SampleNow();
    idle_from = sampler.Now();
    for (int waited = 0; waited < args.idle_ms; waited += 100) {
      progress.Report("idle", static_cast<double>(waited) / args.idle_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, args.idle_ms - waited)));
    }
    sampler.SampleNow();
    idle_to = sampler.Now();
  }
  std::vector<double> ms;
  double run_from = 0;
  const auto run = [&]() {
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = ie_session_run(s, inputs.data(), n_in, msg, sizeof msg) == IE_OK;
    if (!ok) std::fprintf(stderr, "intedge-bench: run failed: %s\n", msg);
    return ok ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() : -1.0;
  };
  bool ok = true;
  for (int r = 0; ok && r < args.warmup; ++r) {
    progress.Report("warmup", static_cast<double>(r) / args.warmup);
    ok = run() >= 0;
  }
  // Per-op times of the timed runs only: what the warm-up spent (first-touch page faults, cold caches) is taken off.
  std::vector<double> warm_us(static_cast<size_t>(ie_session_op_count(s)));
  for (int32_t k = 0; k < ie_session_op_count(s); ++k) {
    ie_op_info op;
    ie_session_op_info(s, k, &op);
    warm_us[static_cast<size_t>(k)] = op.total_us;
  }
  if (sampling) sampler.SampleNow();
  run_from = sampler.Now();
  for (double elapsed_ms = 0; ok && (static_cast<int>(ms.size()) < args.runs || elapsed_ms < args.min_ms);) {
    progress.Report("run", std::min(static_cast<double>(ms.size()) / args.runs,
                                    args.min_ms ? elapsed_ms / args.min_ms : 1.0));
    const double dt = run();
    ok = dt >= 0;
    ms.push_back(dt);
    elapsed_ms = (sampler.Now() - run_from) * 1000;
  }
  if (sampling) sampler.SampleNow();
  const double run_to = sampler.Now();
  sampler.Stop();
  progress.Report("run", 1.0);
  if (!ok) {
    ie_session_close(s);
    return 1;
  }
  if (args.outputs && !WriteOutputs(args.outputs, s)) {
    std::fprintf(stderr, "intedge-bench: cannot write %s\n", args.outputs);
    ie_session_close(s);
    return 1;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  struct stat file;
  const long long file_bytes = stat(args.model, &file) == 0 ? static_cast<long long>(file.st_size) : -1;
  const size_t packed = ie_session_packed_weight_bytes(s);
  std::printf("{\"schema\": \"intedge-bench/2\", \"model\": %s, \"isa\": %s, \"threads\": %d, \"warmup\": %d, "
              "\"runs\": %zu, ",
              JsonString(args.model).c_str(), JsonString(ie_session_isa(s)).c_str(), ie_session_threads(s),
              args.warmup, ms.size());
  PrintLatency(ms);
  std::printf(", \"memory\": {\"model_file_bytes\": %lld, \"mapped_weight_bytes\": %zu, \"packed_weight_bytes\": %zu, "
              "\"arena_bytes\": %zu, \"peak_rss_bytes\": %lld, \"minor_page_faults\": %ld, \"major_page_faults\": %ld}",
              file_bytes, ie_session_weight_bytes(s) - packed, packed, ie_session_arena_bytes(s),
              static_cast<long long>(usage.ru_maxrss) * 1024, usage.ru_minflt, usage.ru_majflt);
  if (args.ops) {
    std::printf(", \"ops\": [");
    for (int32_t k = 0; k < ie_session_op_count(s); ++k) {
      ie_op_info op;
      ie_session_op_info(s, k, &op);
      std::printf("%s{\"kind\": %s, \"name\": %s, \"kernel\": %s, \"mean_us\": %.3f}", k ? ", " : "",
                  JsonString(op.kind).c_str(), JsonString(op.name).c_str(), JsonString(op.kernel).c_str(),
                  (op.total_us - warm_us[static_cast<size_t>(k)]) / static_cast<double>(ms.size()));
    }
    std::printf("]");
  }
  if (sampling) PrintSampling(sampler, idle_from, idle_to, run_from, run_to);
  std::printf("}\n");
  ie_session_close(s);
  return 0;
}
