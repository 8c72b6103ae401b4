package org.intedge.demo.core;

/**
 * Values for a graph's integer inputs and from its integer outputs, as the engine's edge ops compute them
 * (integer_ops/quantize.py). The zoo's image graphs take float32 and quantize inside, and give float32;
 * MiniLM takes int32 token ids and an int8 attention mask. A graph cut past its input quantizer takes
 * integers of its input's scale ({@code TensorInfo.scale()}).
 */
public final class Quantization {
  private Quantization() {}

  /**
   * Small integers (an attention mask) as int8.
   *
   * @throws IllegalArgumentException naming the first value outside -128..127
   */
  public static byte[] toInt8(int[] values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < Byte.MIN_VALUE || values[i] > Byte.MAX_VALUE) {
        throw new IllegalArgumentException("value " + values[i] + " at " + i + " does not fit int8");
      }
      out[i] = (byte) values[i];
    }
    return out;
  }

  /** Floats as the graph's {@code quantize} op makes int8 of them: see {@link #quantize}. */
  public static byte[] quantizeInt8(float[] values, double scale) {
    float inverseScale = inverseScale(scale);
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) quantize(values[i], inverseScale, Byte.MIN_VALUE, Byte.MAX_VALUE);
    }
    return out;
  }

  /** Floats as the graph's {@code quantize} op makes int16 of them: see {@link #quantize}. */
  public static short[] quantizeInt16(float[] values, double scale) {
    float inverseScale = inverseScale(scale);
    short[] out = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (short) quantize(values[i], inverseScale, Short.MIN_VALUE, Short.MAX_VALUE);
    }
    return out;
  }

  /** int8 outputs as the graph's {@code dequantize} op makes floats of them: f32(q) · f32(scale). */
  public static float[] dequantize(byte[] values, double scale) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i] * (float) scale;
    }
    return out;
  }

  /** int16 outputs: f32(q) · f32(scale). */
  public static float[] dequantize(short[] values, double scale) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i] * (float) scale;
    }
    return out;
  }

  /** int32 outputs: f32(q) · f32(scale), q rounded to float32 first as the engine does. */
  public static float[] dequantize(int[] values, double scale) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i] * (float) scale;
    }
    return out;
  }

  /**
   * {@code quantize_input}: saturate(round_half_even(f32(x) · f32(1 / scale))), NaN → 0, ±inf saturating;
   * 1 / scale in double rounded to float32, as converters/lower.py writes the op's inv_scale.
   */
  private static int quantize(float value, float inverseScale, int min, int max) {
    float scaled = value * inverseScale;
    return Float.isNaN(scaled) ? 0 : (int) Math.max(min, Math.min(max, Math.rint(scaled)));
  }

  private static float inverseScale(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("scale " + scale + " must be finite and > 0");
    }
    return (float) (1.0 / scale);
  }
}
