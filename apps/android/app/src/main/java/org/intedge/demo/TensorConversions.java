package org.intedge.demo;

import org.intedge.Tensor;
import org.intedge.TensorInfo;
import org.intedge.demo.core.Quantization;

/** The app's arrays → a graph input of the graph's dtype, and a graph output → floats. */
final class TensorConversions {
  private TensorConversions() {}

  /** An image tensor for {@code input}: float32 as it is, int8/int16 quantized with the input's scale. */
  static Tensor image(TensorInfo input, float[] values) {
    switch (input.dtype()) {
      case FLOAT32:
        return Tensor.of(values, input.shape());
      case INT8:
        return Tensor.of(Quantization.quantizeInt8(values, input.scale()), input.shape());
      case INT16:
        return Tensor.of(Quantization.quantizeInt16(values, input.scale()), input.shape());
      default:
        throw new IllegalArgumentException("input " + input + " is not an image (float32, int8 or int16)");
    }
  }

  /** Token ids or an attention mask for {@code input}: int32, or int8 (the zoo's MiniLM's mask). */
  static Tensor integers(TensorInfo input, int[] values) {
    switch (input.dtype()) {
      case INT32:
        return Tensor.of(values, input.shape());
      case INT8:
        return Tensor.of(Quantization.toInt8(values), input.shape());
      default:
        throw new IllegalArgumentException("input " + input + " takes neither int32 nor int8");
    }
  }

  /** An output's values as floats: float32 as they are, integers dequantized (scale 0: not quantized). */
  static float[] floats(Tensor output, TensorInfo info) {
    double scale = info.scale() > 0 ? info.scale() : 1;
    switch (output.dtype()) {
      case FLOAT32:
        return output.toFloatArray();
      case INT8:
        return Quantization.dequantize(output.toByteArray(), scale);
      case INT16:
        return Quantization.dequantize(output.toShortArray(), scale);
      case INT32:
        return Quantization.dequantize(output.toIntArray(), scale);
      default:
        throw new IllegalArgumentException("output " + info + " is not float32, int8, int16 or int32");
    }
  }
}
