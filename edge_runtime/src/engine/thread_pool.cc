#include "engine/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace intedge {
namespace {

// How long an idle worker spins before it sleeps: longer than the gap
// between two ops of one run, far shorter than the gap between runs of an
// application that is not inferring.
constexpr auto kSpin = std::chrono::microseconds(500);

inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins while cond() holds; yields the core now and then so that more threads
// than cores (oversubscription) still make progress. With a limit, gives up
// (returns false) once it passes.
template <typename Cond>
bool SpinWhile(Cond cond, const std::chrono::microseconds* limit = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; cond(); ++i) {
    CpuRelax();
    if (i % 64 == 0) {
      std::this_thread::yield();
      if (limit && std::chrono::steady_clock::now() - start > *limit) return false;
    }
  }
  return true;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  chunks_.resize(static_cast<size_t>(std::max(threads, 1)));
  for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
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
  for (int64_t p = 0; p < threads(); ++p) {  // threads past `parts` get an empty chunk
    const int64_t b = std::min(n, blocks * p / parts * grain), e = std::min(n, blocks * (p + 1) / parts * grain);
    chunks_[static_cast<size_t>(p)] = p < parts ? std::make_pair(b, e) : std::make_pair(n, n);
  }
  job_ = &fn;
  pending_.store(threads() - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) wake_.notify_all();
  }
  fn(chunks_[0].first, chunks_[0].second);  // the caller takes chunk 0
  SpinWhile([this] { return pending_.load(std::memory_order_acquire) != 0; });
  job_ = nullptr;
}

bool ThreadPool::WaitForJob(uint64_t seen) {
  auto idle = [&] { return generation_.load(std::memory_order_acquire) == seen && !stop_.load(); };
  if (!SpinWhile(idle, &kSpin)) {
    std::unique_lock<std::mutex> lock(mu_);
    ++sleepers_;
    wake_.wait(lock, [&] { return !idle(); });
    --sleepers_;
  }
  return !stop_.load();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  while (WaitForJob(seen)) {
    seen = generation_.load(std::memory_order_acquire);
    const auto chunk = chunks_[static_cast<size_t>(index)];
    if (chunk.first < chunk.second) (*job_)(chunk.first, chunk.second);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace intedge
