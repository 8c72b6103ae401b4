package org.intedge.demo.core;

/** The largest square centred in a width × height image: the part of a photo a square model sees. */
public final class CentreCrop {
  /** The square's left column, top row and side, in the image's pixels. */
  public final int left;
  public final int top;
  public final int side;

  private CentreCrop(int left, int top, int side) {
    this.left = left;
    this.top = top;
    this.side = side;
  }

  /** The centred square of a width × height image; an odd leftover pixel goes to the right or bottom. */
  public static CentreCrop of(int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size " + width + "x" + height + " is empty");
    }
    int side = Math.min(width, height);
    return new CentreCrop((width - side) / 2, (height - side) / 2, side);
  }
}
