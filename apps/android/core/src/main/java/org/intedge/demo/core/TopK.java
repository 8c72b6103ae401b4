package org.intedge.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A classifier's logits → its k most probable classes. */
public final class TopK {
  private TopK() {}

  /**
   * The k classes of highest softmax probability, most probable first (equal ones by index). Softmax in
   * double, shifted by the largest logit so that no exponential overflows.
   *
   * @param labels the class names by index; a class beyond them is called "class N"
   */
  public static List<Prediction> of(float[] logits, String[] labels, int k) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("no logits");
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double[] exp = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      exp[i] = Math.exp(logits[i] - max);
      sum += exp[i];
    }
    List<Prediction> all = new ArrayList<>(logits.length);
    for (int i = 0; i < logits.length; i++) {
      all.add(new Prediction(i, i < labels.length ? labels[i] : "class " + i, exp[i] / sum));
    }
    Collections.sort(all, (a, b) -> a.probability != b.probability
        ? Double.compare(b.probability, a.probability) : Integer.compare(a.index, b.index));
    return new ArrayList<>(all.subList(0, Math.min(k, all.size())));
  }
}
