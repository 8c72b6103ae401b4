// intedge-generate: a decoder .ieg (intedge convert of a LlamaForCausalLM)
// prefilled with token ids, then decoded greedily one token at a time, through
// the C API alone: what a board or a phone without Python runs, and what the
// aarch64 tests run under qemu.
//
//   intedge-generate MODEL.ieg --prompt 0,15,27 [--max-tokens 32] [--threads 1] [--isa NAME]
//                    [--repeats 1] [--logits OUT.bin]
//
// Prints one JSON object: the ISA, the generated ids, and the median prefill
// and decode tokens/s over --repeats generations (each from a reset state).
// --logits writes the float32 logits every run returned, in order (the
// prefill's, then each decode step's), so a test can compare them with the
// reference executor's bit for bit. Greedy means the first largest logit, as
// numpy's argmax picks it; sampling belongs to the host (intedge.generate).
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
  const char* isa = nullptr;
  const char* logits = nullptr;
  std::vector<int32_t> prompt;
  int max_tokens = 32, threads = 1, repeats = 1;
};

int Usage(const char* argv0, FILE* to = stderr, int code = 2) {
  std::fprintf(to,
               "usage: %s MODEL.ieg --prompt ID,ID,... [--max-tokens N (32)] [--threads N (1)] [--isa NAME]\n"
               "                 [--repeats N (1)] [--logits OUT.bin]\n"
               "Prefill the prompt's token ids (what the model's tokenizer gives, its bos id first), then decode\n"
               "greedily to --max-tokens or the context's end; print the ids and prefill/decode tokens/s (median of\n"
               "--repeats generations) as JSON. --logits: every run's float32 logits, in order.\n",
               argv0);
  return code;
}

bool ParseIds(const char* text, std::vector<int32_t>* ids) {
  for (const char* p = text; *p;) {
    char* end = nullptr;
    const long v = std::strtol(p, &end, 10);
    if (end == p || v < 0 || v > INT32_MAX) return false;
    ids->push_back(static_cast<int32_t>(v));
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return false;
  }
  return !ids->empty();
}

// Says what is wrong with the command line, on stderr, and returns false.
bool Bad(const std::string& what) {
  std::fprintf(stderr, "intedge-generate: %s\n", what.c_str());
  return false;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    const auto positive = [&](int* out) {
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end || v < 1 || v > 1000000) return Bad(arg + " takes a whole number from 1 to 1000000, not '" + argv[i] + "'");
      *out = static_cast<int>(v);
      return true;
    };
    if (arg == "--prompt" && has_value) {
      if (!ParseIds(argv[++i], &a->prompt)) {
        return Bad(std::string("--prompt takes token ids separated by commas (0,315,2845), not '") + argv[i] + "'");
      }
    } else if (arg == "--max-tokens" && has_value) {
      if (!positive(&a->max_tokens)) return false;
    } else if (arg == "--threads" && has_value) {
      if (!positive(&a->threads)) return false;
    } else if (arg == "--repeats" && has_value) {
      if (!positive(&a->repeats)) return false;
    } else if (arg == "--isa" && has_value) {
      a->isa = argv[++i];
    } else if (arg == "--logits" && has_value) {
      a->logits = argv[++i];
    } else if (arg[0] != '-' && !a->model) {
      a->model = argv[i];
    } else {
      return Bad("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (!a->model) return Bad("no MODEL.ieg given");
  return a->prompt.empty() ? Bad("--prompt is required") : true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The decoder's inputs by name: tokens and positions [S], and `last` [1] when
// the graph computes the last token's logits only.
class Decoder {
 public:
  explicit Decoder(ie_session* s) : s_(s) {
    for (int32_t i = 0; i < ie_session_input_count(s); ++i) {
      ie_tensor t;
      ie_session_input_info(s, i, &t);
      slots_.push_back(std::string(t.name) == "tokens" ? &tokens_ : std::string(t.name) == "positions" ? &positions_
                                                                                                      : &last_);
      inputs_.push_back(t);
    }
  }
  bool valid() const {
    return std::count(slots_.begin(), slots_.end(), &tokens_) == 1 &&
           std::count(slots_.begin(), slots_.end(), &positions_) == 1 && slots_.size() <= 3;
  }

  // Runs ids at positions start … start+n−1; the last token's logits.
  bool Feed(const int32_t* ids, int64_t n, int64_t start, const float** logits, int64_t* vocab, char* msg, size_t cap) {
    tokens_.assign(ids, ids + n);
    positions_.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) positions_[static_cast<size_t>(k)] = static_cast<int32_t>(start + k);
    last_.assign(1, static_cast<int32_t>(n - 1));
    for (size_t i = 0; i < inputs_.size(); ++i) {
      inputs_[i].data = slots_[i]->data();
      inputs_[i].shape[0] = static_cast<int64_t>(slots_[i]->size());
      inputs_[i].bytes = slots_[i]->size() * sizeof(int32_t);
    }
    if (ie_session_run(s_, inputs_.data(), static_cast<int32_t>(inputs_.size()), msg, cap) != IE_OK) return false;
    ie_tensor out;
    ie_session_output(s_, 0, &out);
    *vocab = out.shape[out.rank - 1];
    *logits = static_cast<const float*>(out.data) + (out.shape[0] - 1) * *vocab;
    return true;
  }

 private:
  ie_session* s_;
  std::vector<int32_t> tokens_, positions_, last_;
  std::vector<std::vector<int32_t>*> slots_;
  std::vector<ie_tensor> inputs_;
};

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
  char msg[1024];
  ie_session* s = nullptr;
  if (ie_session_open_file(args.model, &o, &s, msg, sizeof msg) != IE_OK) {
    std::fprintf(stderr, "intedge-generate: %s\n", msg);
    return 1;
  }
  Decoder decoder(s);
  const int64_t context = ie_session_dynamic_dim(s, nullptr);
  if (!decoder.valid() || ie_session_state_count(s) == 0 || context <= 0) {
    std::fprintf(stderr, "intedge-generate: %s is not a decoder graph (inputs tokens, positions [, last])\n",
                 args.model);
    ie_session_close(s);
    return 1;
  }
  const auto prompt_len = static_cast<int64_t>(args.prompt.size());
  const int64_t steps = std::min<int64_t>(args.max_tokens, context - prompt_len + 1);
  if (steps < 1) {
    std::fprintf(stderr, "intedge-generate: the prompt's %lld tokens leave no room in the context of %lld\n",
                 static_cast<long long>(prompt_len), static_cast<long long>(context));
    ie_session_close(s);
    return 1;
  }
  FILE* logits_file = args.logits ? std::fopen(args.logits, "wb") : nullptr;
  if (args.logits && !logits_file) {
    std::fprintf(stderr, "intedge-generate: cannot write %s\n", args.logits);
    ie_session_close(s);
    return 1;
  }
  std::vector<int32_t> generated;
  std::vector<double> prefill_s, decode_s;
  bool ok = true;
  for (int r = 0; ok && r < args.repeats; ++r) {
    ie_session_reset_state(s);
    generated.clear();
    const float* logits = nullptr;
    int64_t vocab = 0;
    auto t0 = std::chrono::steady_clock::now();
    ok = decoder.Feed(args.prompt.data(), prompt_len, 0, &logits, &vocab, msg, sizeof msg);
    prefill_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    t0 = std::chrono::steady_clock::now();
    for (int64_t k = 0; ok; ++k) {
      if (logits_file && r == 0) std::fwrite(logits, sizeof(float), static_cast<size_t>(vocab), logits_file);
      generated.push_back(static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits));
      if (k + 1 == steps) break;
      ok = decoder.Feed(&generated.back(), 1, prompt_len + k, &logits, &vocab, msg, sizeof msg);
    }
    decode_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (logits_file) std::fclose(logits_file);
  if (!ok) {
    std::fprintf(stderr, "intedge-generate: run failed: %s\n", msg);
    ie_session_close(s);
    return 1;
  }
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"prompt_tokens\": %lld, \"tokens\": [", ie_session_isa(s),
              args.threads, static_cast<long long>(prompt_len));
  for (size_t k = 0; k < generated.size(); ++k) std::printf("%s%d", k ? ", " : "", generated[k]);
  const double decode_runs = static_cast<double>(generated.size() - 1);
  std::printf("], \"prefill_tok_s\": %.1f, \"decode_tok_s\": %.1f}\n",
              static_cast<double>(prompt_len) / Median(prefill_s),
              decode_runs > 0 ? decode_runs / Median(decode_s) : 0.0);
  ie_session_close(s);
  return 0;
}
