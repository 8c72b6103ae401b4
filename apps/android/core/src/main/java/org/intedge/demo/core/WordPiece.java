package org.intedge.demo.core;

import java.util.List;

/**
 * A word → its WordPiece ids: greedy longest match first, continuation pieces prefixed "##"; a word with
 * a part no piece matches, or longer than {@value #MAX_CHARS_PER_WORD} code points, is one [UNK].
 */
final class WordPiece {
  static final int MAX_CHARS_PER_WORD = 100;

  private final Vocabulary vocabulary;
  private final int unknownId;

  WordPiece(Vocabulary vocabulary) {
    this.vocabulary = vocabulary;
    this.unknownId = vocabulary.requiredId("[UNK]");
  }

  /** Appends the ids of {@code word}'s pieces to {@code ids}. */
  void appendIds(String word, List<Integer> ids) {
    int[] codePoints = word.codePoints().toArray();
    if (codePoints.length > MAX_CHARS_PER_WORD) {
      ids.add(unknownId);
      return;
    }
    int first = ids.size();
    for (int start = 0; start < codePoints.length; ) {
      int end = codePoints.length;
      int id = -1;
      for (; end > start; end--) {
        String piece = new String(codePoints, start, end - start);
        id = vocabulary.id(start > 0 ? "##" + piece : piece);
        if (id >= 0) {
          break;
        }
      }
      if (id < 0) {
        ids.subList(first, ids.size()).clear();
        ids.add(unknownId);
        return;
      }
      ids.add(id);
      start = end;
    }
  }
}
