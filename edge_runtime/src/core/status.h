// Status: an error code and a message, returned (never thrown) by the
// runtime's internals, and turned into ie_status at the C API boundary.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

#include "intedge/intedge.h"

namespace intedge {

class Status {
 public:
  Status() = default;
  Status(ie_status code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == IE_OK; }
  ie_status code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ie_status code_ = IE_OK;
  std::string message_;
};

__attribute__((format(printf, 2, 3))) inline Status MakeError(ie_status code, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return Status(code, buf);
}

}  // namespace intedge

// Returns an error Status from the enclosing function when cond is false.
#define IE_CHECK_OR_RETURN(cond, code, ...)          \
  do {                                               \
    if (!(cond)) return ::intedge::MakeError((code), __VA_ARGS__); \
  } while (0)

#define IE_RETURN_IF_ERROR(expr)         \
  do {                                   \
    ::intedge::Status _st = (expr);      \
    if (!_st.ok()) return _st;           \
  } while (0)
