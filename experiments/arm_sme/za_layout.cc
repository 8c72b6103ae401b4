// Where smopa's results and the tile slices land in the ZA array, under this qemu.
// Architecturally, za<t>.s horizontal slice i is ZA array row 4i + t (SVL/8 rows of SVL/8 bytes).
#include <cstdint>
#include <cstdio>
#include <cstring>
int main() {
  int8_t a[256], b[256];
  static int32_t arr[256 * 64], tile[64 * 64], mova_rows[64 * 64];
  int64_t S;
  __asm__ volatile(".arch_extension sme\n rdsvl %0, #1" : "=r"(S));
  const int L = S / 4;
  for (int i = 0; i < S; ++i) a[i] = (i % 4 == 0) ? i / 4 + 1 : 0;        // row i: k0 = i+1, other k 0
  for (int i = 0; i < S; ++i) b[i] = (i % 4 == 0) ? 10 * (i / 4 + 1) : 0; // col j: k0 = 10(j+1)
  __asm__ volatile(".arch_extension sme\n smstart\n ptrue p0.b\n zero {za}\n"
                   "ld1b {z0.b}, p0/z, [%0]\n ld1b {z1.b}, p0/z, [%1]\n"
                   "smopa za0.s, p0/m, p0/m, z0.b, z1.b\n"
                   // whole ZA array, row by row (str za needs no tile arithmetic)
                   "mov w12, #0\n mov x11, %2\n"
                   "1: str za[w12, 0], [x11]\n addvl x11, x11, #1\n add w12, w12, #1\n cmp x12, %5\n b.lt 1b\n"
                   // za0.s slices via st1w
                   "mov w12, #0\n mov x11, %3\n"
                   "2: st1w {za0h.s[w12, 0]}, p0, [x11]\n addvl x11, x11, #1\n add w12, w12, #1\n cmp x12, %6\n b.lt 2b\n"
                   // za0.s slices via mova
                   "mov w12, #0\n mov x11, %4\n"
                   "3: mova z2.s, p0/m, za0h.s[w12, 0]\n st1w {z2.s}, p0, [x11]\n addvl x11, x11, #1\n add w12, w12, #1\n cmp x12, %6\n b.lt 3b\n"
                   "smstop\n"
                   :: "r"(a), "r"(b), "r"(arr), "r"(tile), "r"(mova_rows), "r"(S), "r"((int64_t)L)
                   : "x11", "x12", "p0", "v0", "v1", "v2", "memory");
  printf("SVL %lld bytes, L = %d. want za0.s[i][j] = 10(i+1)(j+1)\n", (long long)S, L);
  printf("ZA array rows (str za), as int32, rows 0..%d:\n", 4 * L - 1);
  for (int r = 0; r < 4 * L; ++r) { printf(" row %2d:", r); for (int j = 0; j < L; ++j) printf("%5d", arr[r * L + j]); printf("\n"); }
  printf("st1w za0h.s[i]:\n");
  for (int i = 0; i < L; ++i) { for (int j = 0; j < L; ++j) printf("%5d", tile[i * L + j]); printf("\n"); }
  printf("mova z, za0h.s[i]:\n");
  for (int i = 0; i < L; ++i) { for (int j = 0; j < L; ++j) printf("%5d", mova_rows[i * L + j]); printf("\n"); }
}
