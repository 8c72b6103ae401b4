package org.intedge.demo.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Uncased BERT's tokenizer (all-MiniLM-L6-v2's): the same ids as HuggingFace's {@code BertTokenizerFast}
 * called with {@code padding="max_length", truncation=True, max_length=length}, as
 * converters/zoo/minilm.py calls it. See {@link BasicTokenizer} for the normalisation and splitting.
 */
public final class BertTokenizer {
  private final WordPiece wordPiece;
  private final int clsId;
  private final int sepId;
  private final int padId;

  /** @throws IllegalArgumentException if the vocabulary lacks [CLS], [SEP], [PAD] or [UNK] */
  public BertTokenizer(Vocabulary vocabulary) {
    this.wordPiece = new WordPiece(vocabulary);
    this.clsId = vocabulary.requiredId("[CLS]");
    this.sepId = vocabulary.requiredId("[SEP]");
    this.padId = vocabulary.requiredId("[PAD]");
  }

  /**
   * {@code text} as [CLS] pieces [SEP] [PAD]…, exactly {@code length} ids: the pieces beyond
   * {@code length - 2} are cut off (truncation), the mask marks the rest as padding.
   */
  public Encoding encode(String text, int length) {
    if (length < 2) {
      throw new IllegalArgumentException("length " + length + " leaves no room for [CLS] and [SEP]");
    }
    List<Integer> pieces = new ArrayList<>();
    for (String word : BasicTokenizer.words(text)) {
      wordPiece.appendIds(word, pieces);
    }
    int kept = Math.min(pieces.size(), length - 2);
    int[] ids = new int[length];
    int[] mask = new int[length];
    ids[0] = clsId;
    for (int i = 0; i < kept; i++) {
      ids[1 + i] = pieces.get(i);
    }
    ids[1 + kept] = sepId;
    for (int i = 2 + kept; i < length; i++) {
      ids[i] = padId;
    }
    for (int i = 0; i < 2 + kept; i++) {
      mask[i] = 1;
    }
    return new Encoding(ids, mask, 2 + kept);
  }
}
