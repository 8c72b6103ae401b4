package org.intedge.demo.core;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Uncased BERT's text → words, before WordPiece: HuggingFace tokenizers' {@code BertNormalizer}
 * (clean_text, handle_chinese_chars, strip_accents, lowercase) then {@code BertPreTokenizer}, rule for rule.
 *
 * <ol>
 *   <li>clean: drop U+0000, U+FFFD and every control, format, private-use or surrogate code point
 *       (general category Cc, Cf, Co, Cs; unassigned ones, Cn, stay) but tab, line feed and carriage
 *       return; every white-space code point becomes a space;</li>
 *   <li>a space either side of each CJK ideograph, so each is a word of its own;</li>
 *   <li>strip accents: canonical decomposition (NFD), then drop non-spacing marks (Mn);</li>
 *   <li>lower-case, code point by code point;</li>
 *   <li>split at spaces (dropped) and around punctuation (kept, one word each): Unicode punctuation
 *       (P*) and ASCII's symbols such as {@code $ + < = > ^ ` |}.</li>
 * </ol>
 *
 * The character classes come from the platform's Unicode tables (Java's {@link Character}, Android's
 * ICU) and HuggingFace's from its own, older ones: a code point assigned or recategorised in between
 * (some 500 of 280 000, mostly recent combining marks) may be handled differently.
 */
final class BasicTokenizer {
  private BasicTokenizer() {}

  /** The words of {@code text}, in order. */
  static List<String> words(String text) {
    String normalised = lowerCase(stripAccents(cleanAndIsolateCjk(text)));
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < normalised.length(); ) {
      int c = normalised.codePointAt(i);
      i += Character.charCount(c);
      if (isWhitespace(c) || isPunctuation(c)) {
        flush(word, words);
        if (!isWhitespace(c)) {
          words.add(new String(Character.toChars(c)));
        }
      } else {
        word.appendCodePoint(c);
      }
    }
    flush(word, words);
    return words;
  }

  private static void flush(StringBuilder word, List<String> words) {
    if (word.length() > 0) {
      words.add(word.toString());
      word.setLength(0);
    }
  }

  private static String cleanAndIsolateCjk(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      if (c == 0 || c == 0xFFFD || isControl(c)) {
        continue;
      }
      if (isWhitespace(c)) {
        out.append(' ');
      } else if (isCjkIdeograph(c)) {
        out.append(' ').appendCodePoint(c).append(' ');
      } else {
        out.appendCodePoint(c);
      }
    }
    return out.toString();
  }

  private static String stripAccents(String text) {
    String decomposed = Normalizer.normalize(text, Normalizer.Form.NFD);
    StringBuilder out = new StringBuilder(decomposed.length());
    for (int i = 0; i < decomposed.length(); ) {
      int c = decomposed.codePointAt(i);
      i += Character.charCount(c);
      if (Character.getType(c) != Character.NON_SPACING_MARK) {
        out.appendCodePoint(c);
      }
    }
    return out.toString();
  }

  /**
   * Per code point with the simple mapping. Rust's {@code char::to_lowercase} uses the full one, which
   * differs only for U+0130 (İ), and that was decomposed to I + U+0307 by the accent stripping already.
   */
  private static String lowerCase(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      out.appendCodePoint(Character.toLowerCase(c));
    }
    return out.toString();
  }

  /** Tab, line feed and carriage return count as white space here, not as control characters. */
  private static boolean isControl(int c) {
    if (c == '\t' || c == '\n' || c == '\r') {
      return false;
    }
    switch (Character.getType(c)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.PRIVATE_USE:
      case Character.SURROGATE:
        return true;
      default:
        return false;
    }
  }

  /**
   * Unicode's White_Space property (Rust's {@code char::is_whitespace}); {@link Character#isWhitespace}
   * differs (it leaves out no-break spaces and counts U+001C..U+001F).
   */
  private static boolean isWhitespace(int c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
        || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
        || c == 0x3000;
  }

  private static boolean isPunctuation(int c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
      return true;
    }
    switch (Character.getType(c)) {
      case Character.CONNECTOR_PUNCTUATION:
      case Character.DASH_PUNCTUATION:
      case Character.START_PUNCTUATION:
      case Character.END_PUNCTUATION:
      case Character.INITIAL_QUOTE_PUNCTUATION:
      case Character.FINAL_QUOTE_PUNCTUATION:
      case Character.OTHER_PUNCTUATION:
        return true;
      default:
        return false;
    }
  }

  /** The CJK Unified and Compatibility Ideograph blocks, as HuggingFace tokenizers' BertNormalizer lists them. */
  private static boolean isCjkIdeograph(int c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
        || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }
}
