package org.intedge.demo.core;

import java.util.Arrays;

/**
 * An image model's input: float32 NCHW [1, channels, size, size], pixel values v in 0..255 fed as
 * (v / 255 − mean) / std per channel.
 */
public final class ImageInputSpec {
  /** Fashion-MNIST's pixel mean and std (converters/data/fashion_mnist.py NORM_MEAN, NORM_STD): the zoo's. */
  private static final float[] FASHION_MNIST_MEAN = {0.2860f};
  private static final float[] FASHION_MNIST_STD = {0.3530f};
  /** ImageNet's RGB mean and std: timm's defaults for the ViT/DeiT checkpoints an RGB graph comes from. */
  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  /** 1 (grey) or 3 (R, G, B planes). */
  public final int channels;
  /** The side of the square input, in pixels. */
  public final int size;
  private final float[] mean;
  private final float[] std;

  private ImageInputSpec(int size, float[] mean, float[] std) {
    this.channels = mean.length;
    this.size = size;
    this.mean = mean;
    this.std = std;
  }

  /**
   * The spec of a graph input of shape [1, C, S, S]: C = 1 is grey with Fashion-MNIST's constants (the
   * zoo's vit-fmnist, swin-fmnist at S = 28, segmenter-fmnist at S = 48); C = 3 is RGB with ImageNet's.
   *
   * @throws IllegalArgumentException for any other shape
   */
  public static ImageInputSpec forShape(long[] shape) {
    if (shape.length != 4 || shape[0] != 1 || (shape[1] != 1 && shape[1] != 3) || shape[2] != shape[3]
        || shape[2] <= 0 || shape[2] > 4096) {
      throw new IllegalArgumentException("not a square image input [1, 1 or 3, S, S]: "
          + Arrays.toString(shape));
    }
    boolean grey = shape[1] == 1;
    return new ImageInputSpec((int) shape[2], grey ? FASHION_MNIST_MEAN : IMAGENET_MEAN,
        grey ? FASHION_MNIST_STD : IMAGENET_STD);
  }

  /** The mean subtracted from channel c's v / 255. */
  float mean(int c) {
    return mean[c];
  }

  /** The std that divides channel c after the mean is subtracted. */
  float std(int c) {
    return std[c];
  }
}
