package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;

import java.util.List;
import org.junit.Test;

public class TopKTest {
  @Test
  public void mostProbableFirstWithSoftmaxProbabilities() {
    float[] logits = {1f, 3f, 2f};
    List<Prediction> top = TopK.of(logits, new String[] {"a", "b", "c"}, 2);
    double sum = Math.exp(1) + Math.exp(3) + Math.exp(2);
    assertEquals(2, top.size());
    assertEquals("b", top.get(0).label);
    assertEquals(Math.exp(3) / sum, top.get(0).probability, 1e-12);
    assertEquals(2, top.get(1).index);
    assertEquals(Math.exp(2) / sum, top.get(1).probability, 1e-12);
  }

  @Test
  public void equalLogitsKeepIndexOrderAndLargeOnesDoNotOverflow() {
    List<Prediction> top = TopK.of(new float[] {1000f, 1000f, -1000f}, FashionMnist.CLASSES, 3);
    assertEquals("T-shirt/top", top.get(0).label);
    assertEquals("Trouser", top.get(1).label);
    assertEquals(0.5, top.get(0).probability, 1e-12);
    assertEquals(0.0, top.get(2).probability, 1e-12);
  }

  @Test
  public void unnamedClassesAndFormatting() {
    List<Prediction> top = TopK.of(new float[] {0f, 4f}, new String[] {"zero"}, 5);
    assertEquals(2, top.size());
    assertEquals("class 1 98.2%", top.get(0).toString());
  }
}
