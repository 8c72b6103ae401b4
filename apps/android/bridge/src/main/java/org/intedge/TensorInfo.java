package org.intedge;

import java.util.Arrays;

/**
 * A graph input or output as the session describes it ({@code ie_session_input_info} /
 * {@code ie_session_output_info}): name, dtype, shape, scale. A graph with a dynamic dimension
 * ({@link Session#dynamicBound()}) gives its shapes at the bound; {@link #dynamicAxes()} says which axes of an
 * input follow it.
 */
public final class TensorInfo {
  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final double scale;
  private final long byteSize;
  private final int dynamicAxes;

  TensorInfo(String name, DType dtype, long[] shape, double scale, long byteSize, int dynamicAxes) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.scale = scale;
    this.byteSize = byteSize;
    this.dynamicAxes = dynamicAxes;
  }

  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  /** The shape (a copy); a dynamic graph's at its bound. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** real value = scale x integer; 0 for a tensor that is not quantized (float32, int32 ids, labels). */
  public double scale() {
    return scale;
  }

  /** Bytes of the tensor at {@link #shape()}. */
  public long byteSize() {
    return byteSize;
  }

  /**
   * Inputs of a graph with a dynamic dimension: bit a set when axis a follows it (there, k*bound in
   * {@link #shape()} may be k*s for any one length s in [1, bound]). 0 for outputs and static graphs.
   */
  public int dynamicAxes() {
    return dynamicAxes;
  }

  /** A zero-filled tensor of this shape and dtype, named (a direct buffer in native order). */
  public Tensor allocate() {
    return Tensor.allocate(dtype, shape).withName(name);
  }

  /** data (raw, native byte order) as this input, named and shaped as the graph declares it. */
  public Tensor wrap(java.nio.ByteBuffer data) {
    return new Tensor(name, dtype, shape, data);
  }

  @Override
  public String toString() {
    return name + ": " + dtype.name().toLowerCase(java.util.Locale.ROOT) + Arrays.toString(shape)
        + (scale != 0 ? " scale " + scale : "");
  }
}
