package org.intedge.demo.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** A WordPiece vocabulary: BERT's {@code vocab.txt}, one token a line, a token's id its line number from 0. */
public final class Vocabulary {
  private final Map<String, Integer> ids;

  private Vocabulary(Map<String, Integer> ids) {
    this.ids = ids;
  }

  /**
   * Reads a {@code vocab.txt} (UTF-8). A token listed twice keeps its last line's id, as HuggingFace's
   * {@code load_vocab} does. The stream is read to its end and not closed.
   */
  public static Vocabulary read(InputStream vocabTxt) throws IOException {
    BufferedReader reader = new BufferedReader(new InputStreamReader(vocabTxt, StandardCharsets.UTF_8));
    Map<String, Integer> ids = new HashMap<>();
    int id = 0;
    for (String token = reader.readLine(); token != null; token = reader.readLine()) {
      ids.put(token, id++);
    }
    return new Vocabulary(ids);
  }

  /** The id of {@code token}, or -1 when the vocabulary lacks it. */
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  /** The id of a token the tokenizer cannot do without ([CLS], [SEP], [PAD], [UNK]). */
  int requiredId(String token) {
    int id = id(token);
    if (id < 0) {
      throw new IllegalArgumentException("the vocabulary has no " + token + " token");
    }
    return id;
  }
}
