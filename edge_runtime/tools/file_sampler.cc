#include "file_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace {

// The file's integer, read afresh: each read reopens it, as sysfs attributes are
// regenerated per open and a recorded tree's writer replaces files whole.
bool ReadInteger(const std::string& path, int64_t* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[64];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
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
  files_ = files;
  period_ms_ = period_ms;
  last_.assign(files.size(), 0);
  for (size_t i = 0; i < files.size(); ++i) {
    if (!ReadInteger(files[i], &last_[i])) {
      *error = files[i] + " does not read as one integer";
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
