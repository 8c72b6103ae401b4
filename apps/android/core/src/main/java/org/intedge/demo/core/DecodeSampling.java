package org.intedge.demo.core;

/**
 * How much to subsample a photo while decoding it ({@code BitmapFactory.Options.inSampleSize}), so that a
 * 12-megapixel picture does not become a 48 MB pixel array for a 28-pixel model.
 */
public final class DecodeSampling {
  private DecodeSampling() {}

  /**
   * The largest power of two that keeps the image's shorter side at least {@code minSide} pixels
   * (1 when it is shorter already): the decoder's JPEG subsampling averages, a smoother start than
   * nearest-neighbour from the full size.
   */
  public static int inSampleSize(int width, int height, int minSide) {
    int shorter = Math.min(width, height);
    int sample = 1;
    while (shorter / (2L * sample) >= minSide) {
      sample *= 2;
    }
    return sample;
  }
}
