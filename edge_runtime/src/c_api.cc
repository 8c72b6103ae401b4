// The C API: a thin shell that turns internal Status values into ie_status
// and serializes the runs of a session.
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/dynamic.h"
#include "engine/session.h"
#include "format/ieg_file.h"
#include "intedge/intedge.h"

// The opaque handle of the C API.
struct ie_session {
  std::unique_ptr<intedge::Session> impl;
  std::mutex run;  // one run at a time: the session has one arena
};

namespace {

ie_status Report(const intedge::Status& st, char* message, size_t capacity) {
  if (message && capacity > 0) {
    const std::string& m = st.message();
    const size_t n = m.size() < capacity - 1 ? m.size() : capacity - 1;
    std::memcpy(message, m.data(), n);
    message[n] = '\0';
  }
  return st.code();
}

void Describe(const intedge::TensorInfo& t, ie_tensor* out) {
  std::memset(out, 0, sizeof *out);
  out->name = t.name.c_str();
  out->dtype = static_cast<ie_dtype>(t.dtype);
  out->rank = t.rank;
  for (int i = 0; i < t.rank; ++i) out->shape[i] = t.dim(i);
  out->scale = t.scale;
  out->bytes = static_cast<size_t>(t.bytes);
}

// `source`: the file's path, put before every error message (empty for a buffer).
ie_status Open(std::unique_ptr<intedge::Model> model, intedge::Status st, const ie_session_options* options,
               const std::string& source, ie_session** session, char* message, size_t capacity) {
  auto fail = [&](const intedge::Status& err) {
    return Report(source.empty() ? err : intedge::Status(err.code(), source + ": " + err.message()), message, capacity);
  };
  if (!st.ok()) return fail(st);
  ie_session_options defaults;
  ie_session_options_init(&defaults);
  const ie_session_options& o = options ? *options : defaults;
  intedge::SessionOptions so;
  so.threads = o.threads;
  so.isa = o.isa ? o.isa : "";
  so.profile = o.profile != 0;
  so.check_finite = o.check_finite != 0;
  so.max_arena_bytes = o.max_arena_bytes;
  std::unique_ptr<intedge::Session> impl;
  st = intedge::Session::Open(std::move(model), so, &impl);
  if (!st.ok()) return fail(st);
  *session = new (std::nothrow) ie_session;
  if (!*session) return fail(intedge::Status(IE_ERR_OUT_OF_MEMORY, "out of memory"));
  (*session)->impl = std::move(impl);
  return IE_OK;
}

const intedge::TensorInfo* GraphTensor(const ie_session* s, const std::vector<int>& ids, int32_t index) {
  if (!s || index < 0 || static_cast<size_t>(index) >= ids.size()) return nullptr;
  return &s->impl->model().tensors()[static_cast<size_t>(ids[static_cast<size_t>(index)])];
}

// t with its dynamic axes at `length` (0 or no dynamic dimension: t itself).
intedge::TensorInfo AtLength(const ie_session* s, const intedge::TensorInfo& t, int64_t length) {
  const int64_t bound = s->impl->model().dynamic_bound();
  intedge::TensorInfo r = t;
  if (length != 0 && bound != 0 && t.dynamic_axes) intedge::ScaleToLength(&r, bound, length);
  return r;
}

// The dynamic dimension's length that inputs[i]'s shapes carry (a dynamic axis of k·bound holds k·s; 0
// for a graph without one); leaves the exact check to CheckInputs.
intedge::Status InputLength(const ie_session* s, const ie_tensor* inputs, int32_t input_count, int64_t* length) {
  using intedge::MakeError;
  const intedge::Model& m = s->impl->model();
  const int64_t bound = m.dynamic_bound();
  *length = 0;
  if (bound == 0 || input_count != static_cast<int32_t>(m.inputs().size()) || !inputs) return intedge::Status::Ok();
  for (int32_t i = 0; i < input_count; ++i) {
    const intedge::TensorInfo& t = *GraphTensor(s, m.inputs(), i);
    if (inputs[i].rank != t.rank) continue;  // CheckInputs reports it
    for (int d = 0; d < t.rank; ++d) {
      if (!(t.dynamic_axes >> d & 1u)) continue;
      const int64_t k = t.dim(d) / bound, got = inputs[i].shape[d];
      if (got % k != 0 || got / k < 1 || got / k > bound) {
        return MakeError(IE_ERR_INVALID_ARGUMENT,
                         "input '%s': dimension %d is %lld; the dynamic dimension '%s' takes lengths 1 to %lld%s",
                         t.name.c_str(), d, static_cast<long long>(got), m.dynamic_name().c_str(),
                         static_cast<long long>(bound), k > 1 ? (" (times " + std::to_string(k) + ")").c_str() : "");
      }
      if (*length != 0 && *length != got / k) {
        return MakeError(IE_ERR_INVALID_ARGUMENT, "inputs disagree on the dynamic dimension '%s': lengths %lld and %lld",
                         m.dynamic_name().c_str(), static_cast<long long>(std::min(*length, got / k)),
                         static_cast<long long>(std::max(*length, got / k)));
      }
      *length = got / k;
    }
  }
  if (*length == 0) *length = bound;
  return intedge::Status::Ok();
}

// Graph input i is exactly inputs[i] (dtype, shape at `length`, and name where given); collects the data pointers.
intedge::Status CheckInputs(const ie_session* s, const ie_tensor* inputs, int32_t input_count, int64_t length,
                            std::vector<const void*>* data) {
  using intedge::MakeError;
  const auto& ids = s->impl->model().inputs();
  if (input_count != static_cast<int32_t>(ids.size()) || (input_count > 0 && !inputs)) {
    return MakeError(IE_ERR_INVALID_ARGUMENT, "the graph takes %zu inputs, got %d", ids.size(), input_count);
  }
  for (int32_t i = 0; i < input_count; ++i) {
    const intedge::TensorInfo t = AtLength(s, *GraphTensor(s, ids, i), length);
    const ie_tensor& x = inputs[i];
    bool same = x.dtype == static_cast<ie_dtype>(t.dtype) && x.rank == t.rank && x.bytes == static_cast<size_t>(t.bytes);
    for (int d = 0; same && d < t.rank; ++d) same = x.shape[d] == t.dim(d);
    if (x.name && t.name != x.name) {
      return MakeError(IE_ERR_INVALID_ARGUMENT, "input %d is '%s', got a tensor named '%s'", i, t.name.c_str(), x.name);
    }
    if (!same) {
      std::string got = "?";
      if (x.rank >= 0 && x.rank <= IE_MAX_RANK) {
        intedge::TensorInfo g;
        g.dtype = static_cast<intedge::DType>(x.dtype);
        g.rank = x.rank;
        for (int d = 0; d < x.rank; ++d) g.dims[static_cast<size_t>(d)] = x.shape[d];
        got = g.ShapeString();
      }
      return MakeError(IE_ERR_INVALID_ARGUMENT, "input '%s': expected %s (%lld bytes), got %s (%zu bytes)",
                       t.name.c_str(), t.ShapeString().c_str(), static_cast<long long>(t.bytes), got.c_str(), x.bytes);
    }
    data->push_back(x.data);
  }
  return intedge::Status::Ok();
}

// Each outputs[i] has room for graph output i at `length`.
intedge::Status CheckOutputs(const ie_session* s, const ie_tensor* outputs, int32_t output_count, int64_t length) {
  const auto& ids = s->impl->model().outputs();
  if (output_count != static_cast<int32_t>(ids.size())) {
    return intedge::MakeError(IE_ERR_INVALID_ARGUMENT, "the graph has %zu outputs, got room for %d", ids.size(),
                              output_count);
  }
  for (int32_t i = 0; i < output_count; ++i) {
    const intedge::TensorInfo t = AtLength(s, *GraphTensor(s, ids, i), length);
    if (!outputs[i].data || outputs[i].bytes < static_cast<size_t>(t.bytes)) {
      return intedge::MakeError(IE_ERR_INVALID_ARGUMENT, "output '%s' needs %lld bytes, got room for %zu",
                                t.name.c_str(), static_cast<long long>(t.bytes), outputs[i].data ? outputs[i].bytes : 0);
    }
  }
  return intedge::Status::Ok();
}

}  // namespace

extern "C" {

void ie_session_options_init(ie_session_options* options) {
  if (!options) return;
  options->threads = 1;
  options->isa = nullptr;
  options->profile = 0;
  options->check_finite = 1;
  options->max_arena_bytes = 0;
}

const char* ie_isa_name(int32_t index) {
  const auto& all = intedge::KnownIsas();
  return index >= 0 && static_cast<size_t>(index) < all.size() ? intedge::IsaName(all[static_cast<size_t>(index)]) : nullptr;
}

int32_t ie_isa_supported(const char* isa) {
  intedge::Isa chosen;
  return isa && intedge::ChooseIsa(isa, &chosen).ok() ? 1 : 0;
}

ie_status ie_session_open_file(const char* path, const ie_session_options* options, ie_session** session,
                               char* message, size_t message_capacity) {
  if (!session) return Report(intedge::Status(IE_ERR_INVALID_ARGUMENT, "null session pointer"), message, message_capacity);
  *session = nullptr;
  std::unique_ptr<intedge::Model> model;
  intedge::Status st = intedge::Model::FromFile(path, &model);
  return Open(std::move(model), st, options, path ? path : "", session, message, message_capacity);
}

ie_status ie_session_open_buffer(const void* data, size_t size, const ie_session_options* options,
                                 ie_session** session, char* message, size_t message_capacity) {
  if (!session) return Report(intedge::Status(IE_ERR_INVALID_ARGUMENT, "null session pointer"), message, message_capacity);
  *session = nullptr;
  std::unique_ptr<intedge::Model> model;
  intedge::Status st = intedge::Model::FromBuffer(data, size, &model);
  return Open(std::move(model), st, options, "", session, message, message_capacity);
}

void ie_session_close(ie_session* session) { delete session; }

int32_t ie_session_input_count(const ie_session* s) {
  return s ? static_cast<int32_t>(s->impl->model().inputs().size()) : 0;
}

int32_t ie_session_output_count(const ie_session* s) {
  return s ? static_cast<int32_t>(s->impl->model().outputs().size()) : 0;
}

ie_status ie_session_input_info(const ie_session* s, int32_t index, ie_tensor* info) {
  const intedge::TensorInfo* t = s ? GraphTensor(s, s->impl->model().inputs(), index) : nullptr;
  if (!t || !info) return IE_ERR_INVALID_ARGUMENT;
  Describe(*t, info);
  return IE_OK;
}

ie_status ie_session_output_info(const ie_session* s, int32_t index, ie_tensor* info) {
  const intedge::TensorInfo* t = s ? GraphTensor(s, s->impl->model().outputs(), index) : nullptr;
  if (!t || !info) return IE_ERR_INVALID_ARGUMENT;
  Describe(*t, info);
  return IE_OK;
}

ie_status ie_session_run(ie_session* s, const ie_tensor* inputs, int32_t input_count, char* message,
                         size_t message_capacity) {
  return ie_session_run_copy(s, inputs, input_count, nullptr, 0, message, message_capacity);
}

ie_status ie_session_run_copy(ie_session* s, const ie_tensor* inputs, int32_t input_count, ie_tensor* outputs,
                              int32_t output_count, char* message, size_t message_capacity) {
  using intedge::MakeError;
  if (!s) return Report(MakeError(IE_ERR_INVALID_ARGUMENT, "null session"), message, message_capacity);
  std::vector<const void*> data;
  int64_t length = 0;
  intedge::Status st = InputLength(s, inputs, input_count, &length);
  if (st.ok()) st = CheckInputs(s, inputs, input_count, length, &data);
  if (st.ok() && outputs) st = CheckOutputs(s, outputs, output_count, length);
  if (!st.ok()) return Report(st, message, message_capacity);
  std::lock_guard<std::mutex> lock(s->run);
  st = s->impl->Run(data, length);
  for (int32_t i = 0; st.ok() && outputs && i < output_count; ++i) {
    const intedge::TensorInfo t = AtLength(s, *GraphTensor(s, s->impl->model().outputs(), i), length);
    std::memcpy(outputs[i].data, s->impl->output(i), static_cast<size_t>(t.bytes));
    outputs[i].rank = t.rank;  // the shape at the run's length
    for (int d = 0; d < t.rank; ++d) outputs[i].shape[d] = t.dim(d);
    outputs[i].bytes = static_cast<size_t>(t.bytes);
  }
  return Report(st, message, message_capacity);
}

ie_status ie_session_output(const ie_session* s, int32_t index, ie_tensor* output) {
  const intedge::TensorInfo* t = s ? GraphTensor(s, s->impl->model().outputs(), index) : nullptr;
  if (!t || !output) return IE_ERR_INVALID_ARGUMENT;
  Describe(s->impl->tensor_at_last_run(s->impl->model().outputs()[static_cast<size_t>(index)]), output);
  output->data = const_cast<uint8_t*>(s->impl->output(index));
  return IE_OK;
}

int64_t ie_session_dynamic_dim(const ie_session* s, const char** name) {
  if (name) *name = s ? s->impl->model().dynamic_name().c_str() : "";
  return s ? s->impl->model().dynamic_bound() : 0;
}

uint32_t ie_session_input_dynamic_axes(const ie_session* s, int32_t index) {
  const intedge::TensorInfo* t = s ? GraphTensor(s, s->impl->model().inputs(), index) : nullptr;
  return t ? t->dynamic_axes : 0;
}

const char* ie_session_isa(const ie_session* s) { return s ? intedge::IsaName(s->impl->isa()) : ""; }

int32_t ie_session_threads(const ie_session* s) { return s ? s->impl->threads() : 0; }

size_t ie_session_arena_bytes(const ie_session* s) {
  return s ? static_cast<size_t>(s->impl->memory_plan().arena_bytes) : 0;
}

size_t ie_session_state_bytes(const ie_session* s) {
  return s ? static_cast<size_t>(s->impl->state_bytes()) : 0;
}

ie_status ie_session_reset_state(ie_session* s) {
  if (!s) return IE_ERR_INVALID_ARGUMENT;
  std::lock_guard<std::mutex> lock(s->run);
  s->impl->ResetState();
  return IE_OK;
}

int32_t ie_session_state_count(const ie_session* s) {
  return s ? static_cast<int32_t>(s->impl->model().states().size()) : 0;
}

ie_status ie_session_state(ie_session* s, int32_t index, ie_tensor* state) {
  const intedge::TensorInfo* t = s ? GraphTensor(s, s->impl->model().states(), index) : nullptr;
  if (!t || !state) return IE_ERR_INVALID_ARGUMENT;
  Describe(*t, state);
  state->data = s->impl->state(index);
  return IE_OK;
}

size_t ie_session_weight_bytes(const ie_session* s) { return s ? static_cast<size_t>(s->impl->weight_bytes()) : 0; }
size_t ie_session_packed_weight_bytes(const ie_session* s) {
  return s ? static_cast<size_t>(s->impl->packed_weight_bytes()) : 0;
}

int32_t ie_session_op_count(const ie_session* s) { return s ? static_cast<int32_t>(s->impl->ops().size()) : 0; }

ie_status ie_session_op_info(const ie_session* s, int32_t op, ie_op_info* info) {
  if (!s || !info || op < 0 || op >= ie_session_op_count(s)) return IE_ERR_INVALID_ARGUMENT;
  const intedge::OpEntry& e = s->impl->ops()[static_cast<size_t>(op)];
  info->kind = e.kind.c_str();
  info->name = e.name.c_str();
  info->kernel = e.kernel.c_str();
  info->total_us = e.total_us;
  info->runs = e.runs;
  return IE_OK;
}

void ie_format_version(uint16_t* major, uint16_t* minor) {
  if (major) *major = intedge::kIegVersionMajor;
  if (minor) *minor = intedge::kIegVersionMinor;
}

ie_status ie_verify_buffer(const void* data, size_t size, char* message, size_t message_capacity) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (reinterpret_cast<uintptr_t>(bytes) % 8 != 0) {
    // Callers may hand us any pointer; the verifier wants aligned scalars.
    std::vector<uint64_t> aligned((size + 7) / 8);
    if (size) std::memcpy(aligned.data(), bytes, size);
    return Report(intedge::VerifyIeg(reinterpret_cast<const uint8_t*>(aligned.data()), size, nullptr), message,
                  message_capacity);
  }
  return Report(intedge::VerifyIeg(bytes, size, nullptr), message, message_capacity);
}

ie_status ie_check_buffer(const void* data, size_t size, char* message, size_t message_capacity) {
  std::unique_ptr<intedge::Model> model;
  intedge::Status st = intedge::Model::Borrow(data, size, &model);
  if (st.ok()) st = intedge::CheckGraph(*model);
  return Report(st, message, message_capacity);
}

}  // extern "C"
