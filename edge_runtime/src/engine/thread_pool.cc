#include "engine/thread_pool.h"

#include <algorithm>

namespace intedge {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t blocks = (n + grain - 1) / grain;
  const int64_t parts = std::min<int64_t>(threads(), blocks);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::pair<int64_t, int64_t>> chunks;
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t b = blocks * p / parts * grain, e = std::min(n, blocks * (p + 1) / parts * grain);
    chunks.emplace_back(b, e);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    chunks_ = chunks;
    pending_ = static_cast<int>(parts) - 1;
    ++generation_;
  }
  wake_.notify_all();
  fn(chunks[0].first, chunks[0].second);  // the caller takes chunk 0
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (static_cast<size_t>(index) >= chunks_.size()) continue;  // fewer chunks than threads this time
    const auto chunk = chunks_[static_cast<size_t>(index)];
    const auto* job = job_;
    lock.unlock();
    (*job)(chunk.first, chunk.second);
    lock.lock();
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace intedge
