/* The calls org.intedge.Session makes, in C, through libintedge_jni.so's exports: where no JVM runs (the
 * aarch64 build under qemu), this checks the library the app loads and the engine inside it.
 *
 *   jni_driver every_op.ieg every_op.in.bin every_op.out.bin
 *
 * For every ISA this CPU runs (under qemu, QEMU_CPU picks: cortex-a57 NEON, cortex-a76 dotprod, max i8mm)
 * and 1 and 2 threads: open from a buffer (Session.open(ByteBuffer)), read the input and output info, run
 * with the inputs (graph order, raw) and copy the outputs out (ie_session_run_copy, as Session.run), compare
 * them with the expected bytes (tests/every_op_bins.py writes both files), read the kernel table (Session.ops),
 * close. Then a wrong input and a file that is not one, each refused with a message; close(NULL). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intedge/intedge.h"

static int failures = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
      ++failures;                                          \
    }                                                      \
  } while (0)

/* The whole file, malloc'd; exits when it cannot be read. */
static uint8_t* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* data = malloc(n > 0 ? (size_t)n : 1);
  if (!data || n < 0 || fread(data, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

/* One session on `model`: runs it, compares the outputs with `expected`, reads its kernel table. */
static void run_once(const uint8_t* model, size_t model_size, const uint8_t* in, size_t in_size,
                     const uint8_t* expected, size_t expected_size, const char* isa, int32_t threads) {
  ie_session_options o;
  ie_session_options_init(&o);
  o.isa = isa;
  o.threads = threads;
  ie_session* s = NULL;
  char message[1024] = "";
  ie_status st = ie_session_open_buffer(model, model_size, &o, &s, message, sizeof message);
  CHECK(st == IE_OK, "%s, %d threads: open: %s", isa, threads, message);
  if (st != IE_OK) return;
  CHECK(strcmp(ie_session_isa(s), isa) == 0, "runs %s, asked for %s", ie_session_isa(s), isa);
  CHECK(ie_session_threads(s) == threads, "%d threads", ie_session_threads(s));
  CHECK(ie_session_dynamic_dim(s, NULL) == 0, "the fixture has no dynamic dimension");

  const int32_t n_in = ie_session_input_count(s), n_out = ie_session_output_count(s);
  ie_tensor inputs[16], outputs[16];
  CHECK(n_in > 0 && n_in <= 16 && n_out > 0 && n_out <= 16, "%d inputs, %d outputs", n_in, n_out);
  if (n_in <= 0 || n_in > 16 || n_out <= 0 || n_out > 16) goto done;
  size_t at = 0;
  for (int32_t i = 0; i < n_in; ++i) {
    CHECK(ie_session_input_info(s, i, &inputs[i]) == IE_OK, "input %d info", i);
    CHECK(inputs[i].name && inputs[i].name[0], "input %d has a name", i);
    CHECK(inputs[i].rank >= 0 && inputs[i].rank <= IE_MAX_RANK, "input %d rank %d", i, inputs[i].rank);
    inputs[i].data = (void*)(in + at);  /* the C API only reads inputs */
    at += inputs[i].bytes;
    CHECK(at <= in_size, "the inputs file holds %zu bytes, the graph's inputs more", in_size);
    if (at > in_size) goto done;
  }
  CHECK(at == in_size, "the inputs file holds %zu bytes, the graph's inputs %zu", in_size, at);
  uint8_t* out = malloc(expected_size + 1);
  at = 0;
  for (int32_t i = 0; i < n_out; ++i) {
    CHECK(ie_session_output_info(s, i, &outputs[i]) == IE_OK, "output %d info", i);
    outputs[i].data = out + (at < expected_size ? at : expected_size);
    at += outputs[i].bytes;
  }
  CHECK(at == expected_size, "the expected file holds %zu bytes, the graph's outputs %zu", expected_size, at);
  if (at == expected_size) {
    st = ie_session_run_copy(s, inputs, n_in, outputs, n_out, message, sizeof message);
    CHECK(st == IE_OK, "%s, %d threads: run: %s", isa, threads, message);
    CHECK(st != IE_OK || memcmp(out, expected, expected_size) == 0, "%s, %d threads: outputs differ", isa, threads);
    for (int32_t i = 0; st == IE_OK && i < n_out; ++i) {  /* and the session's own copy of the last run */
      ie_tensor t;
      CHECK(ie_session_output(s, i, &t) == IE_OK && t.bytes == outputs[i].bytes &&
                memcmp(t.data, outputs[i].data, t.bytes) == 0, "output %d: ie_session_output differs", i);
    }
  }
  free(out);

  const int32_t n_ops = ie_session_op_count(s);
  CHECK(n_ops > 0, "%d ops", n_ops);
  for (int32_t k = 0; k < n_ops; ++k) {
    ie_op_info op;
    CHECK(ie_session_op_info(s, k, &op) == IE_OK && op.kind[0] && op.kernel[0], "op %d: kind and kernel", k);
  }
  ie_op_info past;
  CHECK(ie_session_op_info(s, n_ops, &past) == IE_ERR_INVALID_ARGUMENT, "op %d is past the last", n_ops);

  /* a wrong input: one input short */
  st = ie_session_run(s, inputs, n_in - 1, message, sizeof message);
  CHECK(st == IE_ERR_INVALID_ARGUMENT && strstr(message, "inputs"), "one input short: %d %s", st, message);
done:
  ie_session_close(s);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s model.ieg in.bin out.bin\n", argv[0]);
    return 2;
  }
  size_t model_size, in_size, expected_size;
  uint8_t* model = read_file(argv[1], &model_size);
  uint8_t* in = read_file(argv[2], &in_size);
  uint8_t* expected = read_file(argv[3], &expected_size);

  int runs = 0;
  for (int32_t i = 0; ie_isa_name(i); ++i) {
    const char* isa = ie_isa_name(i);
    if (!ie_isa_supported(isa)) continue;
    for (int32_t threads = 1; threads <= 2; ++threads) {
      run_once(model, model_size, in, in_size, expected, expected_size, isa, threads);
      ++runs;
    }
    printf("%s: outputs equal %s\n", isa, argv[3]);
  }
  CHECK(runs >= 2, "no ISA ran");

  /* a file that is not one, and a truncated one: refused with a message, no session */
  ie_session* s = (ie_session*)&runs;
  char message[1024] = "";
  ie_status st = ie_session_open_buffer(in, in_size, NULL, &s, message, sizeof message);
  CHECK(st == IE_ERR_INVALID_FILE && s == NULL && message[0], "garbage: %d %s", st, message);
  st = ie_session_open_buffer(model, model_size / 2, NULL, &s, message, sizeof message);
  CHECK(st != IE_OK && s == NULL && message[0], "truncated: %d %s", st, message);
  ie_session_close(NULL);

  free(model);
  free(in);
  free(expected);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("jni_driver: %d sessions, all outputs equal\n", runs);
  return 0;
}
