// A verified .ieg in memory (mmap'd file or an owned copy of a buffer) and
// the tensor table decoded from it. Constants stay where they are in the
// file: kernels read weights in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/tensor_info.h"
#include "format/ieg_file.h"

namespace intedge {

class Model {
 public:
  static Status FromFile(const char* path, std::unique_ptr<Model>* out);
  static Status FromBuffer(const void* data, size_t size, std::unique_ptr<Model>* out);
  // Reads the caller's buffer in place (it must outlive the model; 8-byte
  // aligned, else it is copied): for checking a file, not for running it.
  static Status Borrow(const void* data, size_t size, std::unique_ptr<Model>* out);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ir::fb::Graph& graph() const { return *view_.graph; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  // The state tensors (format 2.2), in tensor order: what a session keeps from run to run.
  const std::vector<int>& states() const { return states_; }
  size_t file_bytes() const { return size_; }
  // The graph's dynamic dimension: its bound L (0: none) and name.
  int64_t dynamic_bound() const { return dynamic_bound_; }
  const std::string& dynamic_name() const { return dynamic_name_; }

 private:
  Model() = default;
  // m reads `bytes` (its mapping, its copy or the caller's); decodes it into *out.
  static Status Adopt(std::unique_ptr<Model> m, const uint8_t* bytes, size_t size, std::unique_ptr<Model>* out);
  Status Decode();

  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;          // munmap'd on destruction when set
  std::vector<uint64_t> owned_;      // an 8-byte aligned copy for FromBuffer
  IegView view_;
  std::vector<TensorInfo> tensors_;
  std::vector<int> inputs_, outputs_, states_;
  int64_t dynamic_bound_ = 0;
  std::string dynamic_name_;
};

}  // namespace intedge
