// The C API: a thin shell that turns internal Status values into ie_status.
#include <cstring>
#include <vector>

#include "format/ieg_file.h"
#include "intedge/intedge.h"

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

}  // namespace

extern "C" {

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

}  // extern "C"
