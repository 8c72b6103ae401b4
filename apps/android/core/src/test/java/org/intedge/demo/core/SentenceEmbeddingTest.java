package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class SentenceEmbeddingTest {
  @Test
  public void meanPoolingThenUnitLength() {
    assertArrayEquals(new float[] {0.6f, 0.8f}, SentenceEmbedding.fromMaskedSum(new float[] {6f, 8f}, 7), 1e-7f);
    assertArrayEquals(new float[] {0f, 0f}, SentenceEmbedding.fromMaskedSum(new float[] {0f, 0f}, 3), 0f);
  }

  @Test
  public void cosineOfKnownPairs() {
    float[] a = {1f, 2f, 3f};
    assertEquals(1.0, SentenceEmbedding.cosine(a, new float[] {2f, 4f, 6f}), 1e-12);
    assertEquals(-1.0, SentenceEmbedding.cosine(a, new float[] {-1f, -2f, -3f}), 1e-12);
    assertEquals(0.0, SentenceEmbedding.cosine(new float[] {1f, 0f}, new float[] {0f, 5f}), 1e-12);
    assertEquals(32.0 / Math.sqrt(14 * 77), SentenceEmbedding.cosine(a, new float[] {4f, 5f, 6f}), 1e-12);
    assertTrue(Double.isNaN(SentenceEmbedding.cosine(a, new float[3])));
  }

  /** The graph's masked sums, their means and their embeddings all give the same cosine. */
  @Test
  public void poolingDoesNotChangeTheCosine() {
    float[] sumA = {3f, -1f, 2f, 0.5f};
    float[] sumB = {1f, 1f, -2f, 4f};
    double raw = SentenceEmbedding.cosine(sumA, sumB);
    double pooled = SentenceEmbedding.cosine(SentenceEmbedding.fromMaskedSum(sumA, 5),
        SentenceEmbedding.fromMaskedSum(sumB, 9));
    assertEquals(raw, pooled, 1e-7);
  }
}
