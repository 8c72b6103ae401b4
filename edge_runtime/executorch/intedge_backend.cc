// IntedgeBackend: runs an ExecuTorch delegate whose processed blob is a whole .ieg graph with intedge's
// engine, through the C API only (libintedge.so).
//
// The blob comes from intedge.exporters.executorch_delegate: one delegate call that takes the graph's
// inputs and returns its outputs, in the graph's order. The engine's thread count for a program being
// loaded, first that is set of:
//   the backend option "threads" (int >= 1, 0 unsets it; executorch::runtime::set_option("IntedgeBackend",
//       ...), or intedge_executorch_set_threads() from Python, whose runtime does not expose set_option);
//   $INTEDGE_THREADS;
//   the compile spec "threads" (decimal text, written by export_delegated(threads=N));
//   1.
// The kernel path is the engine's choice ($INTEDGE_ISA, else the best this CPU has).
//
// Errors are intedge's messages, logged with ET_LOG and kept per thread for
// intedge_executorch_last_error(): ExecuTorch's Python runtime reports only an error code, and the
// exporter's run_pte puts the message into the exception it raises.
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include <executorch/runtime/backend/interface.h>
#include <executorch/runtime/core/error.h>
#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/platform/log.h>

#include "intedge/intedge.h"

namespace {

using executorch::aten::ScalarType;
using executorch::aten::Tensor;
using executorch::runtime::ArrayRef;
using executorch::runtime::BackendExecutionContext;
using executorch::runtime::BackendInitContext;
using executorch::runtime::BackendInterface;
using executorch::runtime::BackendOption;
using executorch::runtime::BackendOptionContext;
using executorch::runtime::CompileSpec;
using executorch::runtime::DelegateHandle;
using executorch::runtime::Error;
using executorch::runtime::EValue;
using executorch::runtime::FreeableBuffer;
using executorch::runtime::Result;
using executorch::runtime::Span;

constexpr size_t kMessageCapacity = 1024;

thread_local std::string last_error;

// Logs `format` and keeps it as this thread's last error; returns `code` for the caller to return.
__attribute__((format(printf, 2, 3))) Error Fail(Error code, const char* format, ...) {
  char message[kMessageCapacity];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  ET_LOG(Error, "IntedgeBackend: %s", message);
  last_error = message;
  return code;
}

// The error codes of the C API by range onto ExecuTorch's: a file the engine refuses is a program
// error, a format version it does not read is the delegate's incompatibility.
Error ToError(ie_status status) {
  switch (status) {
    case IE_OK: return Error::Ok;
    case IE_ERR_INVALID_ARGUMENT: return Error::InvalidArgument;
    case IE_ERR_INVALID_FILE: return Error::InvalidProgram;
    case IE_ERR_UNSUPPORTED_VERSION: return Error::DelegateInvalidCompatibility;
    case IE_ERR_OUT_OF_MEMORY: return Error::DelegateMemoryAllocationFailed;
    default: return Error::Internal;
  }
}

// ExecuTorch's element types that a graph's inputs and outputs can have; false for any other.
bool ToDtype(ScalarType type, ie_dtype* dtype) {
  switch (type) {
    case ScalarType::Char: *dtype = IE_INT8; return true;
    case ScalarType::Byte: *dtype = IE_UINT8; return true;
    case ScalarType::Short: *dtype = IE_INT16; return true;
    case ScalarType::Int: *dtype = IE_INT32; return true;
    case ScalarType::Long: *dtype = IE_INT64; return true;
    case ScalarType::Float: *dtype = IE_FLOAT32; return true;
    default: return false;
  }
}

constexpr long kMaxThreads = 1024;

// $INTEDGE_THREADS, else the `threads` compile spec, else 1; 0 when the one given is not an integer in
// [1, kMaxThreads]. (The backend option, when set, comes before both: init checks it.)
int32_t ThreadCount(ArrayRef<CompileSpec> specs, const char** source) {
  std::string text;
  *source = "INTEDGE_THREADS";
  if (const char* env = std::getenv("INTEDGE_THREADS"); env && *env) {
    text = env;
  } else {
    *source = "compile spec threads";
    for (const CompileSpec& spec : specs) {
      if (std::strcmp(spec.key, "threads") == 0) {
        text.assign(static_cast<const char*>(spec.value.buffer), spec.value.nbytes);
      }
    }
    if (text.empty()) return 1;
  }
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || n < 1 || n > kMaxThreads) return 0;
  return static_cast<int32_t>(n);
}

// One loaded delegate: the session and the ie_tensor views that execute() points at ExecuTorch's
// tensors on every call (kept here so a call allocates nothing).
struct Delegate {
  ie_session* session = nullptr;
  std::vector<ie_tensor> inputs, outputs;
};

// Points `view` at ExecuTorch tensor `t` (no copy) after checking that it can be one.
Error View(const EValue* value, const char* role, size_t index, ie_tensor* view) {
  if (value == nullptr || !value->isTensor()) {
    return Fail(Error::InvalidArgument, "%s %zu is not a tensor", role, index);
  }
  const Tensor& t = value->toTensor();
  if (!ToDtype(t.scalar_type(), &view->dtype)) {
    return Fail(Error::InvalidType, "%s %zu: element type %d is none of a graph's", role, index,
                static_cast<int>(t.scalar_type()));
  }
  if (t.dim() > IE_MAX_RANK) {
    return Fail(Error::InvalidArgument, "%s %zu: rank %zd is over %d", role, index, static_cast<ssize_t>(t.dim()),
                IE_MAX_RANK);
  }
  view->rank = static_cast<int32_t>(t.dim());
  for (int32_t i = 0; i < view->rank; ++i) view->shape[i] = t.size(i);
  view->data = t.mutable_data_ptr();
  view->bytes = t.nbytes();
  return Error::Ok;
}

class IntedgeBackend final : public BackendInterface {
 public:
  // The engine's scalar path runs on any CPU.
  bool is_available() const override { return true; }

  Result<DelegateHandle*> init(BackendInitContext&, FreeableBuffer* processed,
                               ArrayRef<CompileSpec> compile_specs) const override {
    last_error.clear();
    if (processed == nullptr || processed->data() == nullptr || processed->size() == 0) {
      return Fail(Error::InvalidProgram, "init: the delegate's blob is empty");
    }
    ie_session_options options;
    ie_session_options_init(&options);
    const char* source = nullptr;
    options.threads = threads_option_ > 0 ? threads_option_.load() : ThreadCount(compile_specs, &source);
    if (options.threads == 0) {
      return Fail(Error::InvalidArgument, "init: %s is not an integer in [1, %ld]", source, kMaxThreads);
    }

    auto* d = new (std::nothrow) Delegate;
    if (d == nullptr) return Fail(Error::MemoryAllocationFailed, "init: out of memory");
    char message[kMessageCapacity];
    // The session keeps its own copy of the blob, so ExecuTorch's can go now.
    const ie_status st =
        ie_session_open_buffer(processed->data(), processed->size(), &options, &d->session, message, sizeof message);
    processed->Free();
    if (st != IE_OK) {
      delete d;
      return Fail(ToError(st), "init: %s", message);
    }
    d->inputs.resize(static_cast<size_t>(ie_session_input_count(d->session)));
    d->outputs.resize(static_cast<size_t>(ie_session_output_count(d->session)));
    return d;
  }

  Error execute(BackendExecutionContext&, DelegateHandle* handle, Span<EValue*> args) const override {
    last_error.clear();
    auto* d = static_cast<Delegate*>(handle);
    if (d == nullptr) return Fail(Error::DelegateInvalidHandle, "execute: no delegate");
    const size_t n_in = d->inputs.size(), n_out = d->outputs.size();
    if (args.size() != n_in + n_out) {
      return Fail(Error::InvalidArgument, "execute: %zu arguments, but the graph has %zu inputs and %zu outputs",
                  args.size(), n_in, n_out);
    }
    for (size_t i = 0; i < n_in; ++i) {
      if (Error e = View(args[i], "input", i, &d->inputs[i]); e != Error::Ok) return e;
    }
    for (size_t i = 0; i < n_out; ++i) {
      if (Error e = View(args[n_in + i], "output", i, &d->outputs[i]); e != Error::Ok) return e;
    }
    // run_copy, not run + output: it writes straight into ExecuTorch's planned output memory.
    char message[kMessageCapacity];
    const ie_status st =
        ie_session_run_copy(d->session, d->inputs.data(), static_cast<int32_t>(n_in), d->outputs.data(),
                            static_cast<int32_t>(n_out), message, sizeof message);
    if (st != IE_OK) return Fail(ToError(st), "execute: %s", message);
    return Error::Ok;
  }

  void destroy(DelegateHandle* handle) const override {
    auto* d = static_cast<Delegate*>(handle);
    if (d == nullptr) return;
    ie_session_close(d->session);
    delete d;
  }

  // "threads" (int >= 1): the thread count of the programs loaded from now on (sessions already open
  // keep theirs); 0 unsets it.
  Error set_option(BackendOptionContext&, const Span<BackendOption>& options) override {
    last_error.clear();
    for (const BackendOption& option : options) {
      if (std::strcmp(option.key, "threads") != 0) {
        return Fail(Error::InvalidArgument, "set_option: unknown option '%s' (IntedgeBackend takes threads)",
                    option.key);
      }
      const int* n = std::get_if<int>(&option.value);
      if (n == nullptr || *n < 0 || *n > kMaxThreads) {
        return Fail(Error::InvalidArgument, "set_option: threads must be an int in [1, %ld], or 0 to unset",
                    kMaxThreads);
      }
      threads_option_ = *n;
    }
    return Error::Ok;
  }

 private:
  std::atomic<int32_t> threads_option_{0};  // 0: not set
};

IntedgeBackend backend;

// Registered when the library loads, into the registry of the libexecutorch.so it links: the one the
// Python runtime uses too, when this library is loaded before a program is.
[[maybe_unused]] const Error registered = [] {
  const Error e = executorch::runtime::register_backend({"IntedgeBackend", &backend});
  if (e != Error::Ok) ET_LOG(Error, "IntedgeBackend: registering failed with error 0x%x", static_cast<unsigned>(e));
  return e;
}();

}  // namespace

// executorch::runtime::set_option("IntedgeBackend", {threads}) for callers without its C++ types;
// returns its Error code (0: Ok).
extern "C" __attribute__((visibility("default"))) int intedge_executorch_set_threads(int threads) {
  BackendOption option;
  std::strncpy(option.key, "threads", sizeof option.key - 1);
  option.value = threads;
  return static_cast<int>(executorch::runtime::set_option("IntedgeBackend", Span<BackendOption>(&option, 1)));
}

// This thread's last error message from init or execute ("" when the last call succeeded): what run_pte
// puts into the Python exception.
extern "C" __attribute__((visibility("default"))) const char* intedge_executorch_last_error(void) {
  return last_error.c_str();
}
