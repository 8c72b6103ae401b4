package org.intedge.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A segmenter's output → a picture: the per-pixel class map (argmax over the class logits), then each
 * class's palette colour alpha-blended on the image where the map says so.
 */
public final class SegmentationOverlay {
  /**
   * One opaque colour per Fashion-MNIST class, in {@link FashionMnist#CLASSES}' order (Tableau 10): the
   * background class gets none and leaves its pixels as they are.
   */
  public static final int[] PALETTE = {
    0xFF4E79A7, 0xFFF28E2B, 0xFFE15759, 0xFF76B7B2, 0xFF59A14F,
    0xFFEDC948, 0xFFB07AA1, 0xFFFF9DA7, 0xFF9C755F, 0xFFBAB0AC,
  };

  private SegmentationOverlay() {}

  /**
   * Logits NCHW [1, classes, height, width] → each pixel's class, row-major: the first of equal maxima
   * (numpy's argmax).
   */
  public static int[] classMap(float[] logits, int classes, int height, int width) {
    int plane = height * width;
    if (logits.length != (long) classes * plane) {
      throw new IllegalArgumentException(logits.length + " logits for [1, " + classes + ", " + height + ", "
          + width + "]");
    }
    int[] map = new int[plane];
    for (int i = 0; i < plane; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (logits[c * plane + i] > logits[best * plane + i]) {
          best = c;
        }
      }
      map[i] = best;
    }
    return map;
  }

  /**
   * The image with a class map blended on it: the map (mapSize × mapSize) covers the image's
   * {@link CentreCrop}, each image pixel taking the map cell over it (cell ⌊p · mapSize / side⌋, the
   * inverse of the pre-processing's nearest sampling); pixels of classes without a palette colour (the
   * background) and outside the crop stay as they are. Per channel, out = (α · colour + (255 − α) · pixel
   * + 127) / 255 in integers (rounded to nearest); the result is opaque.
   *
   * @param alpha the colour's weight, 0 (none) to 255 (solid)
   */
  public static int[] blend(int[] argb, int width, int height, int[] classMap, int mapSize, int alpha) {
    if (argb.length != (long) width * height || classMap.length != (long) mapSize * mapSize) {
      throw new IllegalArgumentException("pixels " + argb.length + " for " + width + "x" + height
          + ", class map " + classMap.length + " for " + mapSize + "x" + mapSize);
    }
    if (alpha < 0 || alpha > 255) {
      throw new IllegalArgumentException("alpha " + alpha + " is not in 0..255");
    }
    CentreCrop crop = CentreCrop.of(width, height);
    int[] out = argb.clone();
    for (int y = 0; y < crop.side; y++) {
      int mapRow = (int) ((long) y * mapSize / crop.side) * mapSize;
      for (int x = 0; x < crop.side; x++) {
        int cls = classMap[mapRow + (int) ((long) x * mapSize / crop.side)];
        if (cls >= 0 && cls < PALETTE.length) {
          int i = (crop.top + y) * width + crop.left + x;
          out[i] = mix(PALETTE[cls], argb[i], alpha);
        }
      }
    }
    return out;
  }

  /**
   * The classes with a palette colour (garments, not the background) the map shows, most pixels first
   * (equal ones by class): the legend under the overlay.
   */
  public static List<Integer> classesByArea(int[] classMap) {
    final int[] counts = new int[PALETTE.length];
    for (int cls : classMap) {
      if (cls >= 0 && cls < PALETTE.length) {
        counts[cls]++;
      }
    }
    List<Integer> present = new ArrayList<>();
    for (int cls = 0; cls < counts.length; cls++) {
      if (counts[cls] > 0) {
        present.add(cls);
      }
    }
    Collections.sort(present, (a, b) -> counts[a] != counts[b] ? Integer.compare(counts[b], counts[a])
        : Integer.compare(a, b));
    return present;
  }

  /** The fraction of the map's pixels of class {@code cls}. */
  public static double share(int[] classMap, int cls) {
    int count = 0;
    for (int c : classMap) {
      if (c == cls) {
        count++;
      }
    }
    return classMap.length == 0 ? 0 : (double) count / classMap.length;
  }

  private static int mix(int colour, int pixel, int alpha) {
    int out = 0xFF000000;
    for (int shift = 0; shift <= 16; shift += 8) {
      int c = (colour >> shift) & 0xFF;
      int p = (pixel >> shift) & 0xFF;
      out |= ((alpha * c + (255 - alpha) * p + 127) / 255) << shift;
    }
    return out;
  }
}
