package org.intedge;

/** Element types of a tensor; {@link #code()} is the C API's {@code ie_dtype} (the .ieg file's DType code). */
public enum DType {
  INT8(0, 8),
  UINT8(1, 8),
  INT16(2, 16),
  INT32(3, 32),
  INT64(4, 64),
  FLOAT32(5, 32),
  /** Two values a byte (weights only: no graph input or output has it). */
  INT4(6, 4);

  private final int code;
  private final int bits;

  DType(int code, int bits) {
    this.code = code;
    this.bits = bits;
  }

  /** The C API's ie_dtype value. */
  public int code() {
    return code;
  }

  /** Bits per element. */
  public int bits() {
    return bits;
  }

  /** Bytes that {@code elements} values of this type take (INT4: two a byte, rounded up). */
  public long byteSize(long elements) {
    return (elements * bits + 7) / 8;
  }

  /** The type with C API code {@code code}. */
  public static DType fromCode(int code) {
    for (DType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("no intedge dtype has code " + code);
  }
}
