package org.intedge.demo.core;

import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The Python side's expected values, which tests/test_android_core.py writes to a folder and names with
 * -Dintedge.core.fixtures. A run without it (Gradle's {@code :core:test}) skips the tests that need them.
 */
final class Fixtures {
  private static final String PROPERTY = "intedge.core.fixtures";

  private Fixtures() {}

  static Path path(String name) {
    String folder = System.getProperty(PROPERTY);
    assumeTrue("expected values come from tests/test_android_core.py (-D" + PROPERTY + ")", folder != null);
    return Paths.get(folder, name);
  }

  static List<String> lines(String name) throws IOException {
    return Files.readAllLines(path(name), StandardCharsets.UTF_8);
  }

  /** Space-separated hexadecimal float32 bit patterns → the floats. */
  static float[] floatBits(String line) {
    String[] words = line.trim().split(" ");
    float[] values = new float[words.length];
    for (int i = 0; i < words.length; i++) {
      values[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(words[i], 16));
    }
    return values;
  }

  /** Space-separated decimal integers (none for an empty line). */
  static int[] ints(String line) {
    String trimmed = line.trim();
    if (trimmed.isEmpty()) {
      return new int[0];
    }
    String[] words = trimmed.split(" ");
    int[] values = new int[words.length];
    for (int i = 0; i < words.length; i++) {
      values[i] = Integer.parseInt(words[i]);
    }
    return values;
  }
}
