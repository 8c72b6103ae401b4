package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;

import java.io.IOException;
import org.junit.Test;

public class FashionMnistTest {
  /** converters/data/fashion_mnist.py CLASSES, as Python writes them. */
  @Test
  public void classNamesAreThePythonSides() throws IOException {
    assertArrayEquals(Fixtures.lines("classes.txt").toArray(new String[0]), FashionMnist.CLASSES);
  }
}
