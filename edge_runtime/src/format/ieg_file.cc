#include "format/ieg_file.h"

#include <cmath>
#include <cstring>

#include "format/crc32.h"
#include "ops/op_checks.h"

namespace intedge {
namespace {

using ir::fb::DType;
using ir::fb::OpOptions;

template <typename T>
T ReadLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // every supported target is little-endian
  return v;
}

Status ParseHeader(const uint8_t* data, size_t size, IegHeader* h) {
  IE_CHECK_OR_RETURN(size >= kIegHeaderSize, IE_ERR_INVALID_FILE,
                     "file is %zu bytes, shorter than the %zu-byte header", size, kIegHeaderSize);
  IE_CHECK_OR_RETURN(std::memcmp(data, kIegMagic, sizeof kIegMagic) == 0, IE_ERR_INVALID_FILE,
                     "byte 0: bad magic, not an .ieg file");
  h->version_major = ReadLE<uint16_t>(data + 8);
  h->version_minor = ReadLE<uint16_t>(data + 10);
  IE_CHECK_OR_RETURN(h->version_major == kIegVersionMajor && h->version_minor <= kIegVersionMinor,
                     IE_ERR_UNSUPPORTED_VERSION, "byte 8: format version %u.%u, this reader supports %u.0 to %u.%u",
                     h->version_major, h->version_minor, kIegVersionMajor, kIegVersionMajor, kIegVersionMinor);
  IE_CHECK_OR_RETURN(ReadLE<uint32_t>(data + 12) == kIegHeaderSize, IE_ERR_INVALID_FILE,
                     "byte 12: header size %u, expected %zu", ReadLE<uint32_t>(data + 12), kIegHeaderSize);
  h->graph_offset = ReadLE<uint64_t>(data + 16);
  h->graph_size = ReadLE<uint64_t>(data + 24);
  h->data_offset = ReadLE<uint64_t>(data + 32);
  h->data_size = ReadLE<uint64_t>(data + 40);
  h->file_size = ReadLE<uint64_t>(data + 48);
  h->crc32 = ReadLE<uint32_t>(data + kIegCrcOffset);
  IE_CHECK_OR_RETURN(h->file_size == size, IE_ERR_INVALID_FILE,
                     "byte 48: header says %llu bytes, file has %zu (truncated or padded)",
                     static_cast<unsigned long long>(h->file_size), size);
  IE_CHECK_OR_RETURN(ReadLE<uint32_t>(data + 60) == 0, IE_ERR_INVALID_FILE, "byte 60: reserved field is not 0");
  IE_CHECK_OR_RETURN(h->graph_offset == kIegHeaderSize && h->graph_size > 0 && h->graph_size <= size - kIegHeaderSize,
                     IE_ERR_INVALID_FILE, "byte 16: graph section [%llu, +%llu) is out of range",
                     static_cast<unsigned long long>(h->graph_offset), static_cast<unsigned long long>(h->graph_size));
  IE_CHECK_OR_RETURN(h->data_offset % kIegAlignment == 0 && h->data_offset >= h->graph_offset + h->graph_size &&
                         h->data_offset <= size && h->data_size == size - h->data_offset,
                     IE_ERR_INVALID_FILE, "byte 32: data section [%llu, +%llu) is out of range or misaligned",
                     static_cast<unsigned long long>(h->data_offset), static_cast<unsigned long long>(h->data_size));
  return Status::Ok();
}

Status CheckCrc(const uint8_t* data, size_t size, uint32_t stored) {
  const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t crc = Crc32(0, data, kIegCrcOffset);
  crc = Crc32(crc, zero, sizeof zero);
  crc = Crc32(crc, data + kIegCrcOffset + 4, size - kIegCrcOffset - 4);
  IE_CHECK_OR_RETURN(crc == stored, IE_ERR_INVALID_FILE,
                     "byte 56: CRC-32 mismatch (stored %08x, computed %08x): the file is corrupted", stored, crc);
  return Status::Ok();
}

Status CheckTensor(int index, const ir::fb::Tensor* t, uint64_t data_size, int64_t bound) {
  const auto dtype = static_cast<int>(t->dtype());
  IE_CHECK_OR_RETURN(dtype >= static_cast<int>(DType::MIN) && dtype <= static_cast<int>(DType::MAX),
                     IE_ERR_INVALID_FILE, "tensor %d: unknown dtype code %d", index, dtype);
  const auto* shape = t->shape();
  const size_t rank = shape ? shape->size() : 0;
  // The FlatBuffers verifier checks a vector's 4-byte length prefix only; the dims are read in place.
  IE_CHECK_OR_RETURN(Aligned8(shape), IE_ERR_INVALID_FILE, "tensor %d: shape vector is not 8-byte aligned", index);
  IE_CHECK_OR_RETURN(rank <= static_cast<size_t>(kIegMaxRank), IE_ERR_INVALID_FILE, "tensor %d: rank %zu > %d", index,
                     rank, kIegMaxRank);
  int64_t dims[kIegMaxRank] = {};
  int64_t elements = 1;
  for (size_t i = 0; i < rank; ++i) {
    dims[i] = shape->Get(static_cast<flatbuffers::uoffset_t>(i));
    // Zero-sized tensors are refused: no op needs one, and every kernel may assume rows and columns exist.
    IE_CHECK_OR_RETURN(dims[i] >= 1 && dims[i] < (int64_t{1} << 31), IE_ERR_INVALID_FILE,
                       "tensor %d: dimension %zu is %lld, outside [1, 2^31)", index, i, static_cast<long long>(dims[i]));
    // At most 2^40 elements: every size the engine and the rules compute stays inside int64.
    IE_CHECK_OR_RETURN(elements <= kIegMaxElements / dims[i], IE_ERR_INVALID_FILE,
                       "tensor %d: more than 2^40 elements", index);
    elements *= dims[i];
  }
  IE_CHECK_OR_RETURN(std::isfinite(t->scale()) && t->scale() >= 0, IE_ERR_INVALID_FILE,
                     "tensor %d: scale %g must be finite and >= 0", index, t->scale());
  if (t->dtype() == DType::INT4) {
    IE_CHECK_OR_RETURN(rank >= 1 && dims[rank - 1] % 2 == 0, IE_ERR_INVALID_FILE,
                       "tensor %d: int4 tensors need an even last dimension", index);
  }
  // Int4 is a packing of constant weights; no op reads or writes an int4 activation.
  IE_CHECK_OR_RETURN(t->dtype() != DType::INT4 || t->is_constant(), IE_ERR_INVALID_FILE,
                     "tensor %d: int4 tensors must be constants", index);
  // State tensors (format 2.2): the same checks, in the same words, as the state rules of validate.py's check_tensor.
  if (t->is_state()) {
    IE_CHECK_OR_RETURN(!t->is_constant(), IE_ERR_INVALID_FILE, "tensor %d: a state tensor holds no data", index);
    const auto* axes = t->dynamic_axes();
    IE_CHECK_OR_RETURN(t->dtype() != DType::INT4 && (!axes || axes->size() == 0), IE_ERR_INVALID_FILE,
                       "tensor %d: a state tensor has a fixed shape and is not int4", index);
  }
  // Dynamic axes (format 2.1): the same checks, in the same words, as intedge/ir/validate.py's check_dynamic_axes.
  if (const auto* axes = t->dynamic_axes(); axes && axes->size() > 0) {
    IE_CHECK_OR_RETURN(bound > 0, IE_ERR_INVALID_FILE,
                       "tensor %d: has dynamic axes but the graph declares no dynamic dimension", index);
    IE_CHECK_OR_RETURN(t->dtype() != DType::INT4, IE_ERR_INVALID_FILE, "tensor %d: int4 tensors cannot have dynamic axes",
                       index);
    for (int32_t a : *axes) {
      IE_CHECK_OR_RETURN(a >= 0 && static_cast<size_t>(a) < rank, IE_ERR_INVALID_FILE,
                         "tensor %d: dynamic axis outside [0, %zu)", index, rank);
    }
    for (flatbuffers::uoffset_t i = 1; i < axes->size(); ++i) {
      IE_CHECK_OR_RETURN(axes->Get(i - 1) < axes->Get(i), IE_ERR_INVALID_FILE,
                         "tensor %d: dynamic axes must be strictly increasing", index);
    }
    for (int32_t a : *axes) {
      IE_CHECK_OR_RETURN(dims[a] % bound == 0, IE_ERR_INVALID_FILE,
                         "tensor %d: dynamic axis %d has size %lld, not a multiple of the bound %lld", index, a,
                         static_cast<long long>(dims[a]), static_cast<long long>(bound));
    }
  }
  if (!t->is_constant()) return Status::Ok();
  const int64_t expected = StorageBytes(t->dtype(), dims, rank);
  IE_CHECK_OR_RETURN(expected >= 0 && t->data_size() == static_cast<uint64_t>(expected), IE_ERR_INVALID_FILE,
                     "tensor %d: data_size %llu does not match dtype and shape (%lld bytes)", index,
                     static_cast<unsigned long long>(t->data_size()), static_cast<long long>(expected));
  IE_CHECK_OR_RETURN(t->data_offset() % kIegAlignment == 0, IE_ERR_INVALID_FILE,
                     "tensor %d: data_offset %llu is not 64-byte aligned", index,
                     static_cast<unsigned long long>(t->data_offset()));
  IE_CHECK_OR_RETURN(t->data_offset() <= data_size && t->data_size() <= data_size - t->data_offset(),
                     IE_ERR_INVALID_FILE, "tensor %d: data [%llu, +%llu) runs past the %llu-byte data section", index,
                     static_cast<unsigned long long>(t->data_offset()), static_cast<unsigned long long>(t->data_size()),
                     static_cast<unsigned long long>(data_size));
  return Status::Ok();
}

Status CheckIds(const char* what, int index, const flatbuffers::Vector<int32_t>* ids, int32_t n, bool allow_absent) {
  if (!ids) return Status::Ok();
  for (flatbuffers::uoffset_t i = 0; i < ids->size(); ++i) {
    const int32_t id = ids->Get(i);
    IE_CHECK_OR_RETURN((allow_absent && id == -1) || (id >= 0 && id < n), IE_ERR_INVALID_FILE,
                       "%s %d: tensor id %d out of range [0, %d)", what, index, id, n);
  }
  return Status::Ok();
}

}  // namespace

int64_t StorageBytes(DType dtype, const int64_t* dims, size_t rank) {
  int64_t count = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] != 0 && count > (int64_t{1} << 40) / dims[i]) return -1;
    count *= dims[i];
  }
  switch (dtype) {
    case DType::INT8:
    case DType::UINT8: return count;
    case DType::INT16: return count * 2;
    case DType::INT32:
    case DType::FLOAT32: return count * 4;
    case DType::INT64: return count * 8;
    case DType::INT4: return (count + 1) / 2;
  }
  return -1;
}

Status VerifyIeg(const uint8_t* data, size_t size, IegView* view) {
  IE_CHECK_OR_RETURN(data != nullptr || size == 0, IE_ERR_INVALID_ARGUMENT, "null buffer");
  IE_CHECK_OR_RETURN(reinterpret_cast<uintptr_t>(data) % 8 == 0, IE_ERR_INVALID_ARGUMENT,
                     "buffer must be 8-byte aligned");
  IegHeader h;
  IE_RETURN_IF_ERROR(ParseHeader(data, size, &h));
  IE_RETURN_IF_ERROR(CheckCrc(data, size, h.crc32));

  const uint8_t* fb = data + h.graph_offset;
  flatbuffers::Verifier verifier(fb, h.graph_size);
  IE_CHECK_OR_RETURN(ir::fb::GraphBufferHasIdentifier(fb), IE_ERR_INVALID_FILE,
                     "byte 68: graph FlatBuffer lacks the IEG1 identifier");
  IE_CHECK_OR_RETURN(ir::fb::VerifyGraphBuffer(verifier), IE_ERR_INVALID_FILE,
                     "graph FlatBuffer failed verification (offsets or sizes out of bounds)");
  const ir::fb::Graph* g = ir::fb::GetGraph(fb);

  int64_t bound = 0;
  if (const auto* dyn = g->dynamic_dim()) {
    const char* name = dyn->name() ? dyn->name()->c_str() : "";
    IE_CHECK_OR_RETURN(dyn->bound() >= 1 && dyn->bound() < (int64_t{1} << 31), IE_ERR_INVALID_FILE,
                       "graph: dynamic dimension '%s': bound %lld outside [1, 2^31)", name,
                       static_cast<long long>(dyn->bound()));
    bound = dyn->bound();
  }
  const auto* tensors = g->tensors();
  const int32_t n = tensors ? static_cast<int32_t>(tensors->size()) : 0;
  for (int32_t i = 0; i < n; ++i) IE_RETURN_IF_ERROR(CheckTensor(i, tensors->Get(i), h.data_size, bound));
  IE_RETURN_IF_ERROR(CheckIds("graph input", 0, g->inputs(), n, false));
  IE_RETURN_IF_ERROR(CheckIds("graph output", 0, g->outputs(), n, false));
  if (const auto* ops = g->ops()) {
    for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
      const auto* op = ops->Get(i);
      const int k = static_cast<int>(op->kind());
      const OpSignature* sig = SignatureOf(op->kind());
      IE_CHECK_OR_RETURN(sig != nullptr, IE_ERR_INVALID_FILE, "op %u: unknown op kind %d", i, k);
      const OpOptions expected = sig->options;
      IE_CHECK_OR_RETURN(op->options_type() == expected && (expected == OpOptions::NONE || op->options()),
                         IE_ERR_INVALID_FILE, "op %u (%s): options are %s, expected %s", i, sig->kind, ir::fb::EnumNameOpOptions(op->options_type()),
                         ir::fb::EnumNameOpOptions(expected));
      IE_CHECK_OR_RETURN(!sig->long_vectors_aligned || sig->long_vectors_aligned(*op), IE_ERR_INVALID_FILE,
                         "op %u (%s): an int64 option vector is not 8-byte aligned", i, sig->kind);
      IE_RETURN_IF_ERROR(CheckIds("op", static_cast<int>(i), op->inputs(), n, true));
      IE_RETURN_IF_ERROR(CheckIds("op", static_cast<int>(i), op->outputs(), n, false));
    }
  }
  if (view) {
    view->header = h;
    view->graph = g;
    view->data = data + h.data_offset;
  }
  return Status::Ok();
}

}  // namespace intedge
