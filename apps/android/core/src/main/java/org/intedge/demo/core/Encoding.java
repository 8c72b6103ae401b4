package org.intedge.demo.core;

/** A sentence as a fixed-length encoder takes it: token ids and the attention mask, padded to one length. */
public final class Encoding {
  private final int[] ids;
  private final int[] attentionMask;
  private final int tokenCount;

  Encoding(int[] ids, int[] attentionMask, int tokenCount) {
    this.ids = ids;
    this.attentionMask = attentionMask;
    this.tokenCount = tokenCount;
  }

  /** [CLS], the word pieces, [SEP], then [PAD] to the length. */
  public int[] ids() {
    return ids.clone();
  }

  /** 1 for each real token ([CLS] and [SEP] included), 0 for padding. */
  public int[] attentionMask() {
    return attentionMask.clone();
  }

  /** The tokens the mask keeps: what mean pooling divides by. */
  public int tokenCount() {
    return tokenCount;
  }
}
