package org.intedge.demo.core;

/**
 * MiniLM's graph output → sentence-transformers' embedding, and the similarity of two.
 *
 * The zoo's MiniLM graph returns the attention-masked sum of the last hidden states (a data-dependent
 * division does not belong in an integer graph): the caller divides by the token count (mean pooling)
 * and L2-normalises, as all-MiniLM-L6-v2's Pooling and Normalize modules do. Cosine similarity is the same
 * for the sum, the mean and the normalised vector.
 */
public final class SentenceEmbedding {
  private SentenceEmbedding() {}

  /** The masked sum divided by {@code tokenCount}, then scaled to unit length (a zero vector stays zero). */
  public static float[] fromMaskedSum(float[] maskedSum, int tokenCount) {
    if (tokenCount <= 0) {
      throw new IllegalArgumentException("token count " + tokenCount + " is not positive");
    }
    double[] mean = new double[maskedSum.length];
    double squares = 0;
    for (int i = 0; i < maskedSum.length; i++) {
      mean[i] = (double) maskedSum[i] / tokenCount;
      squares += mean[i] * mean[i];
    }
    double norm = Math.sqrt(squares);
    float[] embedding = new float[maskedSum.length];
    for (int i = 0; i < maskedSum.length; i++) {
      embedding[i] = norm > 0 ? (float) (mean[i] / norm) : 0f;
    }
    return embedding;
  }

  /** a · b / (|a| |b|) in double; NaN when either is all zeros. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("embeddings of " + a.length + " and " + b.length + " values");
    }
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      aa += (double) a[i] * a[i];
      bb += (double) b[i] * b[i];
    }
    return dot / (Math.sqrt(aa) * Math.sqrt(bb));
  }
}
