package org.intedge;

import java.nio.charset.StandardCharsets;

/**
 * A failure the C API reported: {@link #getMessage()} is its message (naming the file, tensor, op or byte
 * offset at fault) and {@link #status()} its {@code ie_status}.
 */
public class IntedgeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The C API's ie_status codes, grouped by range as there. */
  public enum Status {
    /** 1x: the caller's arguments (a wrong input dtype, shape or count; a bad option). */
    INVALID_ARGUMENT(10),
    /** 2x: the model file (not a .ieg, truncated, corrupted, or an op the spec refuses). */
    INVALID_FILE(20),
    UNSUPPORTED_VERSION(21),
    /** 3x: resources (Options.maxArenaBytes too small, or no memory). */
    OUT_OF_MEMORY(30),
    /** 4x: bugs. */
    INTERNAL(40);

    private final int code;

    Status(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    /** The status with this code; INTERNAL for a code this bridge does not know. */
    public static Status of(int code) {
      for (Status s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      return INTERNAL;
    }
  }

  private final int code;

  public IntedgeException(Status status, String message) {
    super(message);
    this.code = status.code();
  }

  /** From the JNI library: the C API's message as UTF-8 bytes (a name quoted from a file need not be valid). */
  IntedgeException(byte[] message, int code) {
    super(new String(message, StandardCharsets.UTF_8));
    this.code = code;
  }

  public Status status() {
    return Status.of(code);
  }

  /** The ie_status value itself. */
  public int statusCode() {
    return code;
  }
}
