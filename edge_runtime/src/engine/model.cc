#include "engine/model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace intedge {

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::INT8: return "int8";
    case DType::UINT8: return "uint8";
    case DType::INT16: return "int16";
    case DType::INT32: return "int32";
    case DType::INT64: return "int64";
    case DType::FLOAT32: return "float32";
    case DType::INT4: return "int4";
  }
  return "?";
}

int64_t ElementBytes(DType dtype) {
  switch (dtype) {
    case DType::INT8:
    case DType::UINT8: return 1;
    case DType::INT16: return 2;
    case DType::INT32:
    case DType::FLOAT32: return 4;
    case DType::INT64: return 8;
    case DType::INT4: return 0;
  }
  return 0;
}

std::string TensorInfo::ShapeString() const {
  std::string s = std::string(DTypeName(dtype)) + "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dim(i));
  return s + "]";
}

// Errors leave out the path: the C API puts it before every message of a file.
Status Model::FromFile(const char* path, std::unique_ptr<Model>* out) {
  IE_CHECK_OR_RETURN(path != nullptr, IE_ERR_INVALID_ARGUMENT, "null path");
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  IE_CHECK_OR_RETURN(fd >= 0, IE_ERR_INVALID_ARGUMENT, "cannot open: %s", std::strerror(errno));
  struct stat st;
  const bool stat_ok = ::fstat(fd, &st) == 0;
  if (!stat_ok || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    ::close(fd);
    if (stat_ok && S_ISDIR(st.st_mode)) return MakeError(IE_ERR_INVALID_ARGUMENT, "is a directory, not a .ieg file");
    if (stat_ok && !S_ISREG(st.st_mode)) return MakeError(IE_ERR_INVALID_ARGUMENT, "not a regular file");
    return MakeError(IE_ERR_INVALID_FILE, "empty or unreadable file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  IE_CHECK_OR_RETURN(map != MAP_FAILED, IE_ERR_OUT_OF_MEMORY, "cannot mmap: %s", std::strerror(errno));
  std::unique_ptr<Model> m(new Model());
  m->mapping_ = map;
  return Adopt(std::move(m), static_cast<const uint8_t*>(map), size, out);
}

Status Model::FromBuffer(const void* data, size_t size, std::unique_ptr<Model>* out) {
  IE_CHECK_OR_RETURN(data != nullptr || size == 0, IE_ERR_INVALID_ARGUMENT, "null buffer");
  std::unique_ptr<Model> m(new Model());
  // A private aligned copy: the verifier and the kernels want aligned constants,
  // and the caller's buffer may go away.
  m->owned_.resize((size + 7) / 8 + 8);
  auto* base = reinterpret_cast<uint8_t*>(m->owned_.data());
  if (size) std::memcpy(base, data, size);
  return Adopt(std::move(m), base, size, out);
}

Status Model::Borrow(const void* data, size_t size, std::unique_ptr<Model>* out) {
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) return FromBuffer(data, size, out);
  IE_CHECK_OR_RETURN(data != nullptr || size == 0, IE_ERR_INVALID_ARGUMENT, "null buffer");
  return Adopt(std::unique_ptr<Model>(new Model()), static_cast<const uint8_t*>(data), size, out);
}

Status Model::Adopt(std::unique_ptr<Model> m, const uint8_t* bytes, size_t size, std::unique_ptr<Model>* out) {
  m->bytes_ = bytes;
  m->size_ = size;
  IE_RETURN_IF_ERROR(m->Decode());
  *out = std::move(m);
  return Status::Ok();
}

Model::~Model() {
  if (mapping_) ::munmap(mapping_, size_);
}

Status Model::Decode() {
  IE_RETURN_IF_ERROR(VerifyIeg(bytes_, size_, &view_));
  const auto* tensors = view_.graph->tensors();
  const int n = tensors ? static_cast<int>(tensors->size()) : 0;
  tensors_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto* t = tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
    TensorInfo& info = tensors_[static_cast<size_t>(i)];
    // A NUL ends a name (as the Python reader takes it), so both name a tensor alike.
    info.name = t->name() ? std::string(t->name()->c_str()) : "tensor" + std::to_string(i);
    info.dtype = t->dtype();
    info.rank = t->shape() ? static_cast<int>(t->shape()->size()) : 0;
    for (int d = 0; d < info.rank; ++d) info.dims[static_cast<size_t>(d)] = t->shape()->Get(static_cast<flatbuffers::uoffset_t>(d));
    info.numel = info.Span(0, info.rank);
    info.bytes = StorageBytes(info.dtype, info.dims.data(), static_cast<size_t>(info.rank));
    IE_CHECK_OR_RETURN(info.bytes >= 0, IE_ERR_INVALID_FILE, "tensor %d (%s): too large", i, info.name.c_str());
    info.scale = t->scale();
    if (t->is_constant()) info.constant = view_.data + t->data_offset();
    info.is_state = t->is_state();
    if (info.is_state) states_.push_back(i);
    if (t->dynamic_axes()) {
      for (int32_t a : *t->dynamic_axes()) info.dynamic_axes |= 1u << a;
    }
  }
  if (const auto* dyn = view_.graph->dynamic_dim()) {
    dynamic_bound_ = dyn->bound();
    dynamic_name_ = dyn->name() ? dyn->name()->c_str() : "";
  }
  auto ids = [](const flatbuffers::Vector<int32_t>* v) {
    return v ? std::vector<int>(v->begin(), v->end()) : std::vector<int>();
  };
  inputs_ = ids(view_.graph->inputs());
  outputs_ = ids(view_.graph->outputs());
  // In validate.py's order: each input is neither a constant nor a state tensor, then no output is a state tensor.
  for (int id : inputs_) {
    const TensorInfo& t = tensors_[static_cast<size_t>(id)];
    IE_CHECK_OR_RETURN(!t.constant, IE_ERR_INVALID_FILE, "graph input: tensor '%s' is a constant", t.name.c_str());
    IE_CHECK_OR_RETURN(!t.is_state, IE_ERR_INVALID_FILE, "graph input: tensor '%s' is a state tensor", t.name.c_str());
  }
  for (int id : outputs_) {
    const TensorInfo& t = tensors_[static_cast<size_t>(id)];
    IE_CHECK_OR_RETURN(!t.is_state, IE_ERR_INVALID_FILE, "graph output: tensor '%s' is a state tensor", t.name.c_str());
  }
  return Status::Ok();
}

}  // namespace intedge
