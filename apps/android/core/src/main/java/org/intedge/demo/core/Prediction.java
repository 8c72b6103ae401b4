package org.intedge.demo.core;

import java.util.Locale;

/** One class of a classifier's answer: its index, its name and its softmax probability. */
public final class Prediction {
  public final int index;
  public final String label;
  public final double probability;

  Prediction(int index, String label, double probability) {
    this.index = index;
    this.label = label;
    this.probability = probability;
  }

  /** "Trouser 97.1%". */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s %.1f%%", label, probability * 100);
  }
}
