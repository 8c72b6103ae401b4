// A minimal test harness: CHECK records a failure and carries on; main()
// ends with the "N passed, N failed" line that CI reads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "src/format/crc32.h"

namespace intedge::test {
inline int passed = 0, failed = 0;
inline int Finish() {
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
// The bytes of the file named by the test's one argument (empty on a usage error).
inline std::vector<uint8_t> ReadArgFile(int argc, char** argv) {
  if (argc != 2) {
    std::printf("usage: %s FILE.ieg\n", argv[0]);
    return {};
  }
  std::ifstream f(argv[1], std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
// Recomputes a .ieg image's CRC-32 (header bytes 56..59), so a changed byte reaches the checks behind it.
inline void FixCrc(std::vector<uint8_t>* file) {
  constexpr size_t kCrcOffset = 56;
  uint8_t* d = file->data();
  std::memset(d + kCrcOffset, 0, 4);
  const uint32_t crc = Crc32(0, d, file->size());
  std::memcpy(d + kCrcOffset, &crc, 4);
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
