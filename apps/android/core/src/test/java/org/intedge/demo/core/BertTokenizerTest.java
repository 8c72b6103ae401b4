package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.Test;

public class BertTokenizerTest {
  private static final String TINY_VOCAB =
      "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n,\nworld\n!\nun\n##aff\n##able\ncafe\n你\n好\n$\n##hello\n";

  private static BertTokenizer tiny() throws IOException {
    return new BertTokenizer(Vocabulary.read(
        new ByteArrayInputStream(TINY_VOCAB.getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  public void splitsLowersStripsAndPads() throws IOException {
    Encoding e = tiny().encode("Hello,WORLD! unaffable CAFÉ 你好 $", 16);
    assertArrayEquals(new int[] {2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3, 0, 0, 0}, e.ids());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, e.attentionMask());
    assertEquals(13, e.tokenCount());
  }

  @Test
  public void aWordWithAnUnmatchedPartIsOneUnknown() throws IOException {
    assertArrayEquals(new int[] {2, 1, 4, 3}, tiny().encode("unaffablex hello", 4).ids());
  }

  @Test
  public void aWordOverAHundredCodePointsIsUnknown() throws IOException {
    String hundred = "hello".repeat(20);
    int[] pieces = new int[24];
    Arrays.fill(pieces, 15);
    pieces[0] = 2;
    pieces[1] = 4;
    pieces[21] = 3;
    pieces[22] = 0;
    pieces[23] = 0;
    assertArrayEquals(pieces, tiny().encode(hundred, 24).ids());
    assertArrayEquals(new int[] {2, 1, 3, 0}, tiny().encode(hundred + "o", 4).ids());
  }

  @Test
  public void truncatesToTheLengthKeepingSep() throws IOException {
    Encoding e = tiny().encode("hello world hello world", 4);
    assertArrayEquals(new int[] {2, 4, 6, 3}, e.ids());
    assertEquals(4, e.tokenCount());
  }

  @Test
  public void controlCharactersGoAndWhitespaceSplits() throws IOException {
    assertArrayEquals(new int[] {2, 4, 6, 4, 3, 0},
        tiny().encode("hel\u0000lo\u00a0wor\u200bld\thello", 6).ids());
  }

  @Test
  public void refusesAVocabularyWithoutSpecialTokens() {
    InputStream noUnk = new ByteArrayInputStream("[PAD]\n[CLS]\n[SEP]\n".getBytes(StandardCharsets.UTF_8));
    assertThrows(IllegalArgumentException.class, () -> new BertTokenizer(Vocabulary.read(noUnk)));
  }

  /**
   * The zoo's tokenizer (HuggingFace's, through converters/zoo/minilm.py tokenize) on the zoo's first 200
   * test sentences, awkward ones, and every assigned code point HF's Unicode tables classify as the
   * platform's do (40 a sentence): the same ids and mask, exactly.
   */
  @Test
  public void matchesHuggingFaceOnMiniLmsVocabulary() throws IOException {
    BertTokenizer tokenizer;
    try (InputStream vocab = Files.newInputStream(Fixtures.path("vocab.txt"))) {
      tokenizer = new BertTokenizer(Vocabulary.read(vocab));
    }
    List<String> mismatches = new ArrayList<>();
    List<String> cases = Fixtures.lines("tokenizer.tsv");
    for (String line : cases) {
      String[] fields = line.split("\t");
      String text = new String(Base64.getDecoder().decode(fields[0]), StandardCharsets.UTF_8);
      int[] ids = Fixtures.ints(fields[1]);
      Encoding got = tokenizer.encode(text, ids.length);
      if (!Arrays.equals(ids, got.ids()) || !Arrays.equals(Fixtures.ints(fields[2]), got.attentionMask())) {
        mismatches.add(codePoints(text) + "\n  expected " + fields[1] + "\n  got      "
            + Arrays.toString(got.ids()));
      }
    }
    assertTrue(cases.size() > 7000);
    assertTrue(mismatches.size() + " of " + cases.size() + " differ, first:\n"
        + String.join("\n", mismatches.subList(0, Math.min(3, mismatches.size()))), mismatches.isEmpty());
  }

  private static String codePoints(String text) {
    StringBuilder out = new StringBuilder("[");
    text.codePoints().limit(60).forEach(c -> out.append(String.format("U+%04X ", c)));
    return out.append(']').toString();
  }
}
