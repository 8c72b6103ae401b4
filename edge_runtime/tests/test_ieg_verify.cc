// The C++ verifier on the committed fixture: it accepts the file, and every
// truncation and every single-byte flip is rejected with a message; with
// the CRC recomputed, every flip reaches the checks behind the checksum and
// gets a verdict — never a crash or an out-of-bounds read (this test runs
// under ASan + UBSan in CI).
#include <cstring>
#include <vector>

#include "intedge/intedge.h"
#include "tests/check.h"

namespace {

ie_status Verify(const std::vector<uint8_t>& bytes, char* msg) {
  // Exact-size heap copy, so ASan sees any read past the end.
  std::vector<uint8_t> copy(bytes);
  return ie_verify_buffer(copy.data(), copy.size(), msg, 256);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<uint8_t> file = intedge::test::ReadArgFile(argc, argv);
  if (file.empty()) return 2;
  CHECK(file.size() > 64);
  char msg[256] = "";
  CHECK(Verify(file, msg) == IE_OK);

  for (size_t n = 0; n < file.size(); n += 7) {
    std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<long>(n));
    CHECK(Verify(cut, msg) == IE_ERR_INVALID_FILE && std::strlen(msg) > 0);
  }
  int flips_rejected = 0;
  for (size_t i = 0; i < file.size(); ++i) {
    std::vector<uint8_t> bad(file);
    bad[i] ^= 0x5A;
    flips_rejected += Verify(bad, msg) != IE_OK;
  }
  CHECK(flips_rejected == static_cast<int>(file.size()));

  // Behind the checksum: each flip of the graph section (CRC fixed) is judged by the FlatBuffers
  // verifier and the container checks; the data section's bytes are constants, so flips there pass.
  int graph_rejected = 0, graph_accepted = 0;
  for (size_t i = 64; i < file.size(); ++i) {
    std::vector<uint8_t> bad(file);
    bad[i] ^= 0x5A;
    intedge::test::FixCrc(&bad);
    msg[0] = '\0';
    if (Verify(bad, msg) == IE_OK) {
      ++graph_accepted;
    } else {
      ++graph_rejected;
      CHECK(std::strlen(msg) > 0);
    }
  }
  std::printf("flips behind a valid CRC: %d rejected with a message, %d accepted\n", graph_rejected, graph_accepted);
  CHECK(graph_rejected > 0 && graph_accepted > 0);

  std::vector<uint8_t> newer(file);
  newer[8] = 3;
  CHECK(Verify(newer, msg) == IE_ERR_UNSUPPORTED_VERSION);
  CHECK(ie_verify_buffer(nullptr, 0, msg, sizeof msg) != IE_OK);
  // Misaligned pointers are accepted (copied internally), not rejected.
  std::vector<uint8_t> shifted(file.size() + 1);
  std::memcpy(shifted.data() + 1, file.data(), file.size());
  CHECK(ie_verify_buffer(shifted.data() + 1, file.size(), msg, sizeof msg) == IE_OK);
  // A tiny message buffer is truncated, not overrun.
  char tiny[4];
  CHECK(ie_verify_buffer(file.data(), 10, tiny, sizeof tiny) == IE_ERR_INVALID_FILE && std::strlen(tiny) == 3);
  return intedge::test::Finish();
}
