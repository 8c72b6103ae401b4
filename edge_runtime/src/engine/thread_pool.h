// A fixed set of worker threads for one session. ParallelFor splits [0, n)
// into one contiguous chunk per thread, so which thread computes an element
// never changes what is computed: results are identical for any count.
//
// A transformer runs hundreds of short ops per inference, each a
// ParallelFor of tens of microseconds: waking a sleeping thread through the
// kernel costs about as much. So idle workers spin on an atomic generation
// counter for a while (kSpin) before they sleep on a condition variable,
// and the caller spins until the chunks are done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace intedge {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // threads >= 1; the caller's thread is one of them
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // fn(begin, end) over disjoint chunks covering [0, n); chunk bounds are
  // multiples of `grain` (except the last). Returns when all chunks are done.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop(int index);
  // Waits until generation_ moves past `seen` (spinning, then sleeping); false on stop.
  bool WaitForJob(uint64_t seen);

  std::vector<std::thread> workers_;
  // Written by ParallelFor before generation_ is bumped, read by workers after.
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  std::vector<std::pair<int64_t, int64_t>> chunks_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // guards the sleep/wake hand-off only
  std::condition_variable wake_;
  int sleepers_ = 0;
};

}  // namespace intedge
