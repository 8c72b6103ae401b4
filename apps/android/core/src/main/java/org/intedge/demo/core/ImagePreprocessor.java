package org.intedge.demo.core;

/**
 * Android pixels → an image model's input tensor, prepared as the zoo's Python side prepares its images,
 * so that a picture of a Fashion-MNIST garment gives the app the tensor the converter calibrated on.
 *
 * <ol>
 *   <li>{@link #cropAndResize}: the largest centred square ({@link CentreCrop}), resized by nearest
 *       neighbour with the zoo's index rule: output pixel i samples source pixel ⌊i · side / size⌋,
 *       the rule converters/data/fashion_mnist.py's {@code scenes} scales garments with;</li>
 *   <li>{@link #toTensor}: grey by ITU-R 601-2 luma in PIL's integer form ({@code Image.convert("L")}:
 *       (19595 R + 38470 G + 7471 B + 2<sup>15</sup>) ≫ 16) for a 1-channel model, or R, G, B planes; each
 *       8-bit value v optionally inverted to 255 − v; then in float32, (v / 255 − mean) / std, the
 *       operations and order of {@code fashion_mnist.load} and {@code normalize}, so the result is the
 *       Python one bit for bit.</li>
 * </ol>
 *
 * Alpha is ignored, as PIL's RGBA → L conversion ignores it. Fashion-MNIST's garments are light on black;
 * a photo of a garment on a light ground needs inverting ({@link #hasLightBorder} tells).
 */
public final class ImagePreprocessor {
  private ImagePreprocessor() {}

  /**
   * The centred square of {@code argb} (width × height, row-major: {@code Bitmap.getPixels}' layout)
   * resized to size × size by nearest neighbour, ARGB.
   */
  public static int[] cropAndResize(int[] argb, int width, int height, int size) {
    if (argb.length != (long) width * height) {
      throw new IllegalArgumentException(argb.length + " pixels for a " + width + "x" + height + " image");
    }
    if (size <= 0) {
      throw new IllegalArgumentException("output size " + size + " is not positive");
    }
    CentreCrop crop = CentreCrop.of(width, height);
    int[] out = new int[size * size];
    for (int y = 0; y < size; y++) {
      int row = (crop.top + (int) ((long) y * crop.side / size)) * width;
      for (int x = 0; x < size; x++) {
        out[y * size + x] = argb[row + crop.left + (int) ((long) x * crop.side / size)];
      }
    }
    return out;
  }

  /**
   * Whether the one-pixel border of a size × size ARGB square is light on average (mean luma above
   * 127.5): a dark object on a light ground, the reverse of Fashion-MNIST's light garments on black.
   */
  public static boolean hasLightBorder(int[] square, int size) {
    long sum = 0;
    int count = 0;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        if (y == 0 || x == 0 || y == size - 1 || x == size - 1) {
          sum += luma(square[y * size + x]);
          count++;
        }
      }
    }
    return 2 * sum > 255L * count;
  }

  /** A square from {@link #cropAndResize} at {@code spec.size} → the model's float32 NCHW input. */
  public static float[] toTensor(int[] square, ImageInputSpec spec, boolean invert) {
    int plane = spec.size * spec.size;
    if (square.length != plane) {
      throw new IllegalArgumentException(square.length + " pixels for a " + spec.size + "x" + spec.size
          + " input");
    }
    float[] tensor = new float[spec.channels * plane];
    for (int c = 0; c < spec.channels; c++) {
      float mean = spec.mean(c);
      float std = spec.std(c);
      for (int i = 0; i < plane; i++) {
        int v = spec.channels == 1 ? luma(square[i]) : (square[i] >> (16 - 8 * c)) & 0xFF;
        if (invert) {
          v = 255 - v;
        }
        tensor[c * plane + i] = ((float) v / 255f - mean) / std;
      }
    }
    return tensor;
  }

  /** PIL's {@code L} of an ARGB pixel: ITU-R 601-2 luma, rounded, in 0..255. */
  static int luma(int argb) {
    int r = (argb >> 16) & 0xFF;
    int g = (argb >> 8) & 0xFF;
    int b = argb & 0xFF;
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  }
}
