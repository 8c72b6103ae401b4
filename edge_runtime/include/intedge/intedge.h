/* intedge C API — the one interface that the Python bindings, the Android
 * JNI bridge and the intedge-bench binary share.
 *
 * Conventions: every function returns an ie_status; on failure it writes a
 * NUL-terminated message naming the field, tensor, op or byte offset at
 * fault into `message` (truncated to `message_capacity`; may be NULL).
 * No function aborts, throws across the API, or reads outside the buffers
 * it is given.
 */
#ifndef INTEDGE_INTEDGE_H_
#define INTEDGE_INTEDGE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ie_status {
  IE_OK = 0,
  /* 1x: the caller's arguments */
  IE_ERR_INVALID_ARGUMENT = 10,
  /* 2x: the model file */
  IE_ERR_INVALID_FILE = 20,
  IE_ERR_UNSUPPORTED_VERSION = 21,
  /* 3x: resources */
  IE_ERR_OUT_OF_MEMORY = 30,
  /* 4x: bugs */
  IE_ERR_INTERNAL = 40,
} ie_status;

/* The .ieg format version this library reads (major.minor). */
void ie_format_version(uint16_t* major, uint16_t* minor);

/* Checks a whole .ieg image in memory: header, CRC-32, the FlatBuffers
 * verifier over the graph, enum values, tensor ids, and each constant's
 * offset, size and 64-byte alignment in the data section.
 *   data: [size] bytes, any alignment. */
ie_status ie_verify_buffer(const void* data, size_t size, char* message, size_t message_capacity);

/* Everything ie_session_open_buffer checks — the container as above, the
 * graph's order, and every op against the op spec — without preparing
 * kernels or memory: the engine's verdict on a file, cheaply. */
ie_status ie_check_buffer(const void* data, size_t size, char* message, size_t message_capacity);

/* ---- Sessions: load a graph, run it ------------------------------------- */

/* Element types; the values are the .ieg file's DType codes. */
typedef enum ie_dtype {
  IE_INT8 = 0,
  IE_UINT8 = 1,
  IE_INT16 = 2,
  IE_INT32 = 3,
  IE_INT64 = 4,
  IE_FLOAT32 = 5,
  IE_INT4 = 6,
} ie_dtype;

#define IE_MAX_RANK 8

/* A tensor as the caller hands it in or gets it back. */
typedef struct ie_tensor {
  const char* name;             /* graph inputs/outputs: their name (owned by the session) */
  ie_dtype dtype;
  int32_t rank;
  int64_t shape[IE_MAX_RANK];
  double scale;                 /* real value = scale * integer; 0 when not a quantized tensor */
  void* data;
  size_t bytes;
} ie_tensor;

typedef struct ie_session_options {
  int32_t threads;              /* >= 1 */
  const char* isa;              /* NULL: $INTEDGE_ISA, else the best this CPU has; or one of
                                   scalar, avx2, avxvnni, avx512vnni, amx, neon, neon-dotprod, neon-i8mm */
  int32_t profile;              /* non-zero: time every op (ie_session_op_info) */
  int32_t check_finite;         /* non-zero: a run whose float32 input holds NaN or ±inf fails with
                                   IE_ERR_INVALID_ARGUMENT. Zero: NaN quantizes to 0, ±inf saturates. */
  int64_t max_arena_bytes;      /* > 0: opening fails (IE_ERR_OUT_OF_MEMORY) when the activations
                                   and the state tensors need more; 0: no limit */
} ie_session_options;

typedef struct ie_session ie_session;

/* threads 1, isa NULL, profile 0, check_finite 1, max_arena_bytes 0 */
void ie_session_options_init(ie_session_options* options);

/* Non-zero when this build and this CPU run kernels for `isa`. */
int32_t ie_isa_supported(const char* isa);
/* The name of the index-th ISA this library knows (scalar first), on any CPU; NULL past the last. */
const char* ie_isa_name(int32_t index);

/* Open a session on a .ieg file (mmap'd; weights are used in place) or on a
 * buffer (copied). Verifies the container and every op against the op spec
 * (dtypes, shapes, constant ranges) before anything runs; a file's errors
 * start with its path. options may be NULL. */
ie_status ie_session_open_file(const char* path, const ie_session_options* options, ie_session** session,
                               char* message, size_t message_capacity);
ie_status ie_session_open_buffer(const void* data, size_t size, const ie_session_options* options,
                                 ie_session** session, char* message, size_t message_capacity);
void ie_session_close(ie_session* session); /* NULL is fine */

int32_t ie_session_input_count(const ie_session* session);
int32_t ie_session_output_count(const ie_session* session);
/* Name, dtype, shape, scale and byte size of input/output `index`; data is NULL. */
ie_status ie_session_input_info(const ie_session* session, int32_t index, ie_tensor* info);
ie_status ie_session_output_info(const ie_session* session, int32_t index, ie_tensor* info);

/* The graph's dynamic dimension: its bound L (0: the graph has none) and,
 * when name is not NULL, its name (owned by the session). */
int64_t ie_session_dynamic_dim(const ie_session* session, const char** name);
/* Bit a set: axis a of graph input `index` follows the dynamic dimension. */
uint32_t ie_session_input_dynamic_axes(const ie_session* session, int32_t index);
/* Run once. inputs[i] must match graph input i's dtype and shape exactly
 * (name may be NULL; when set it must match too). A graph with a dynamic
 * dimension (ie_session_dynamic_dim) takes inputs whose dynamic axes hold
 * k·s instead of k·bound, for one length s in [1, bound]: it runs at s, and
 * its outputs have their shapes at s (ie_session_output; ie_session_run_copy
 * writes them into outputs[i].shape, rank and bytes). Runs on one session are
 * serialized (it has one arena): calls from several threads are correct,
 * one at a time; open a session per thread to run them side by side. */
ie_status ie_session_run(ie_session* session, const ie_tensor* inputs, int32_t input_count, char* message,
                         size_t message_capacity);
/* Output `index` of the last run: info plus data pointing into the session,
 * valid until the next run or close. With several threads on one session,
 * use ie_session_run_copy instead: another thread's run may come between. */
ie_status ie_session_output(const ie_session* session, int32_t index, ie_tensor* output);
/* Run once and copy every output into outputs[i].data (outputs[i].bytes:
 * the room there, at least output i's size) before the next run may start:
 * the call for several threads sharing one session. */
ie_status ie_session_run_copy(ie_session* session, const ie_tensor* inputs, int32_t input_count, ie_tensor* outputs,
                              int32_t output_count, char* message, size_t message_capacity);

/* ---- State: what a session keeps from one run to the next ---------------
 * A graph's state tensors (format 2.2: a decoder's KV cache) are no graph
 * input or output: they are zeros when the session opens, and the op that
 * reads each one updates it in place, so every run sees what the runs
 * before it left. One slot each, at the same place for every length. */

/* Zero every state tensor: the next run starts as the first one did (a new
 * sequence). Serialized with runs, as ie_session_run is. */
ie_status ie_session_reset_state(ie_session* session);
int32_t ie_session_state_count(const ie_session* session);
/* State tensor `index` (in the file's tensor order): name, dtype, shape,
 * scale, bytes, and data pointing into the session, valid until close. Read
 * or write it between runs only (writing restores a saved cache). */
ie_status ie_session_state(ie_session* session, int32_t index, ie_tensor* state);

/* What the session chose and holds. */
const char* ie_session_isa(const ie_session* session);
int32_t ie_session_threads(const ie_session* session);
size_t ie_session_arena_bytes(const ie_session* session);     /* activations, planned, and the state
                                                                 tensors: the whole arena */
size_t ie_session_state_bytes(const ie_session* session);     /* of those, the state tensors' slots */
size_t ie_session_weight_bytes(const ie_session* session);    /* weights the kernels read: repacked
                                                                 copies + constants used in place */
size_t ie_session_packed_weight_bytes(const ie_session* session); /* of those, the repacked copies; the rest
                                                                 are read in place (mapped, from a file) */

/* The kernel table: one entry per op of the graph, in order. */
typedef struct ie_op_info {
  const char* kind;             /* the op spec's name, e.g. "qlinear" */
  const char* name;             /* the op's name in the file */
  const char* kernel;           /* the kernel chosen when the session opened, e.g. "gemm_w8a8_avx512vnni" */
  double total_us;              /* time in this op over all runs (options.profile), else 0 */
  int64_t runs;
} ie_op_info;
int32_t ie_session_op_count(const ie_session* session);
ie_status ie_session_op_info(const ie_session* session, int32_t op, ie_op_info* info);

#ifdef __cplusplus
}
#endif

#endif /* INTEDGE_INTEDGE_H_ */
