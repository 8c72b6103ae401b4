package org.intedge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * A tensor handed to {@link Session#run} or returned by it: dtype, shape, and its raw bytes in native byte
 * order (the engine's layout: row-major, no padding). The bytes are the buffer's from its position to its
 * limit at construction; the tensor views them (no copy), so a change to the buffer shows. Outputs come in
 * direct buffers of their own. The session, not this class, checks that dtype, shape and bytes agree with
 * the graph: a run with a wrong one throws {@link IntedgeException} with the C API's message.
 */
public final class Tensor {
  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer data;

  /** An unnamed tensor over {@code data}'s remaining bytes (raw, native byte order). */
  public Tensor(DType dtype, long[] shape, ByteBuffer data) {
    this(null, dtype, shape, data);
  }

  /**
   * A named tensor: positional {@link Session#run(Tensor...)} then also checks the name against the graph's
   * input. name may be null.
   */
  public Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
    if (dtype == null || shape == null || data == null) {
      throw new NullPointerException("a tensor needs a dtype, a shape and data");
    }
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data.slice().order(ByteOrder.nativeOrder());
  }

  /** Zero-filled, in a direct buffer. */
  public static Tensor allocate(DType dtype, long... shape) {
    long bytes = dtype.byteSize(elements(shape));
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a tensor of " + bytes + " bytes is larger than a ByteBuffer");
    }
    return new Tensor(dtype, shape, direct((int) bytes));
  }

  /** INT8 values. */
  public static Tensor of(byte[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length);
    b.duplicate().put(values);
    return new Tensor(DType.INT8, shape, b);
  }

  /** UINT8 values (bytes read as 0..255). */
  public static Tensor ofUnsigned(byte[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length);
    b.duplicate().put(values);
    return new Tensor(DType.UINT8, shape, b);
  }

  /** INT16 values. */
  public static Tensor of(short[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length * 2);
    b.asShortBuffer().put(values);
    return new Tensor(DType.INT16, shape, b);
  }

  /** INT32 values (token ids, masks, labels). */
  public static Tensor of(int[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length * 4);
    b.asIntBuffer().put(values);
    return new Tensor(DType.INT32, shape, b);
  }

  /** INT64 values. */
  public static Tensor of(long[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length * 8);
    b.asLongBuffer().put(values);
    return new Tensor(DType.INT64, shape, b);
  }

  /** FLOAT32 values (images, features: the graph quantizes them). */
  public static Tensor of(float[] values, long... shape) {
    ByteBuffer b = direct(Objects.requireNonNull(values, "values").length * 4);
    b.asFloatBuffer().put(values);
    return new Tensor(DType.FLOAT32, shape, b);
  }

  /** This tensor's bytes under another name (null: unnamed). */
  public Tensor withName(String newName) {
    return new Tensor(newName, dtype, shape, data);
  }

  /** The name, or null. Outputs carry the graph's output names. */
  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  /** The shape (a copy). */
  public long[] shape() {
    return shape.clone();
  }

  /** The product of the shape. */
  public long elementCount() {
    return elements(shape);
  }

  /** The bytes this tensor holds. */
  public int byteSize() {
    return data.capacity();
  }

  /** The bytes, as a new read-write view (position 0, native byte order) of the same memory. */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.nativeOrder());
  }

  /** A copy of the raw bytes, whatever the dtype. */
  public byte[] toByteArray() {
    byte[] out = new byte[data.capacity()];
    data().get(out);
    return out;
  }

  public short[] toShortArray() {
    expect(DType.INT16);
    short[] out = new short[data.capacity() / 2];
    data().asShortBuffer().get(out);
    return out;
  }

  public int[] toIntArray() {
    expect(DType.INT32);
    int[] out = new int[data.capacity() / 4];
    data().asIntBuffer().get(out);
    return out;
  }

  public long[] toLongArray() {
    expect(DType.INT64);
    long[] out = new long[data.capacity() / 8];
    data().asLongBuffer().get(out);
    return out;
  }

  public float[] toFloatArray() {
    expect(DType.FLOAT32);
    float[] out = new float[data.capacity() / 4];
    data().asFloatBuffer().get(out);
    return out;
  }

  /** The bytes in a direct buffer: these, or a copy when they are on the Java heap. */
  ByteBuffer directData() {
    return data.isDirect() ? data : directCopy(data);
  }

  /** A direct copy of src's remaining bytes (src's position stays). */
  static ByteBuffer directCopy(ByteBuffer src) {
    ByteBuffer copy = direct(src.remaining());
    copy.duplicate().put(src.duplicate());
    return copy;
  }

  @Override
  public String toString() {
    return (name != null ? name + ": " : "") + dtype.name().toLowerCase(Locale.ROOT) + Arrays.toString(shape);
  }

  // Only ByteBuffer's own methods here and in Session (duplicate, slice, put, order): Java 9's covariant
  // Buffer overrides (ByteBuffer.flip(), .limit(int)...) are missing on older Android.
  static ByteBuffer direct(int bytes) {
    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0 || (d != 0 && n > Long.MAX_VALUE / d)) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + ": a dimension below 0, or more "
            + "elements than a long counts");
      }
      n *= d;
    }
    return n;
  }

  private void expect(DType want) {
    if (dtype != want) {
      String have = dtype.name().toLowerCase(Locale.ROOT);
      throw new IllegalStateException("tensor " + (name != null ? "'" + name + "' " : "") + "is " + have
          + ", not " + want.name().toLowerCase(Locale.ROOT));
    }
  }
}
