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

#ifdef __cplusplus
}
#endif

#endif /* INTEDGE_INTEDGE_H_ */
