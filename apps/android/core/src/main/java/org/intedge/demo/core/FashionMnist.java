package org.intedge.demo.core;

/** Fashion-MNIST's class names, in label order (converters/data/fashion_mnist.py CLASSES). */
public final class FashionMnist {
  /** The ten garment classes: the classifier's outputs and the segmenter's first ten. */
  public static final String[] CLASSES = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
  };
  /** The segmenter's eleventh class: no garment. */
  public static final int BACKGROUND = 10;

  private FashionMnist() {}
}
