// A minimal test harness: CHECK records a failure and carries on; main()
// ends with the "N passed, N failed" line that CI reads.
#pragma once

#include <cstdio>

namespace intedge::test {
inline int passed = 0, failed = 0;
inline int Finish() {
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
}  // namespace intedge::test

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (cond) {                                                            \
      ++::intedge::test::passed;                                           \
    } else {                                                               \
      ++::intedge::test::failed;                                           \
      std::printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)
