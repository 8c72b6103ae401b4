#include "file_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {

// A command's output, up to 63 bytes: what the command printed, or -1.
ssize_t ReadCommand(const char* command, char* buf, size_t capacity) {
  FILE* pipe = ::popen(command, "r");
  if (!pipe) return -1;
  const size_t n = std::fread(buf, 1, capacity, pipe);
  while (std::fgetc(pipe) != EOF) {  // drain the rest, so the command is not killed by SIGPIPE mid-write
  }
  return ::pclose(pipe) == 0 ? static_cast<ssize_t>(n) : -1;
}

// A file read afresh: each read reopens it, as sysfs attributes are regenerated
// per open and a recorded tree's writer replaces files whole.
ssize_t ReadFile(const char* path, char* buf, size_t capacity) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n;
  do {
    n = ::read(fd, buf, capacity);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n;
}

bool ReadInteger(const std::string& source, int64_t* out) {
  char buf[64];
  const ssize_t n = source[0] == '!' ? ReadCommand(source.c_str() + 1, buf, sizeof buf - 1)
                                     : ReadFile(source.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  char* end;
  errno = 0;
  const long long v = std::strtoll(buf, &end, 10);
  if (end == buf || errno == ERANGE) return false;
  while (*end == '\n' || *end == ' ') ++end;
  if (*end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

bool FileSampler::Open(const std::vector<std::string>& files, int period_ms, std::string* error) {
  for (const std::string& f : files) {
    if (f.empty() || f == "!") {
      *error = "an empty source";
      return false;
    }
  }
  files_ = files;
  period_ms_ = period_ms;
  last_.assign(files.size(), 0);
  for (size_t i = 0; i < files.size(); ++i) {
    if (!ReadInteger(files[i], &last_[i])) {
      *error = files[i] + (files[i][0] == '!' ? " does not print one integer" : " does not read as one integer");
      return false;
    }
  }
  start_ = std::chrono::steady_clock::now();
  return true;
}

double FileSampler::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void FileSampler::SampleNow() {
  std::lock_guard<std::mutex> lock(mu_);
  times_.push_back(Now());
  for (size_t i = 0; i < files_.size(); ++i) {
    if (!ReadInteger(files_[i], &last_[i])) ++failed_reads_;
    values_.push_back(last_[i]);
  }
}

void FileSampler::Start() {
  if (files_.empty()) return;
  thread_ = std::thread([this] { Loop(); });
}

void FileSampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileSampler::Loop() {
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    SampleNow();
    next += std::chrono::milliseconds(period_ms_);
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}
