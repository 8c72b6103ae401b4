// FileSampler: reads a set of text files that each hold one integer (sysfs
// sensor attributes: energy counters, power, current, voltage) every period on
// a thread of its own, with a timestamp per row. A source that starts with '!'
// is a shell command whose output is that integer instead (a Raspberry Pi 5
// reports its PMIC's rails through `vcgencmd`, not sysfs). intedge-bench uses
// it to record what a board's or phone's power sensors said while it ran;
// which sources, and what their numbers mean, is decided on the host
// (intedge.profilers.energy), so this side knows no sensor.
#ifndef INTEDGE_TOOLS_FILE_SAMPLER_H_
#define INTEDGE_TOOLS_FILE_SAMPLER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class FileSampler {
 public:
  // Fails, naming the source, unless each reads as an integer now.
  bool Open(const std::vector<std::string>& files, int period_ms, std::string* error);
  ~FileSampler() { Stop(); }

  void Start();
  void Stop();
  // A row now, besides the periodic ones: window edges then fall on a sample.
  void SampleNow();
  // Seconds since Open on the clock the rows are stamped with.
  double Now() const;

  const std::vector<std::string>& files() const { return files_; }
  int period_ms() const { return period_ms_; }
  // After Stop: the rows' times and values (row-major, files().size() per row).
  const std::vector<double>& times() const { return times_; }
  const std::vector<int64_t>& values() const { return values_; }
  // Reads that failed mid-run (a fuel gauge may answer EAGAIN): the row repeats the file's last value.
  int64_t failed_reads() const { return failed_reads_; }

 private:
  void Loop();

  std::vector<std::string> files_;
  int period_ms_ = 20;
  std::chrono::steady_clock::time_point start_;
  std::vector<double> times_;
  std::vector<int64_t> values_;
  std::vector<int64_t> last_;
  int64_t failed_reads_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

#endif  // INTEDGE_TOOLS_FILE_SAMPLER_H_
