package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class LatencyWindowTest {
  @Test
  public void medianOfTheLastNOnly() {
    LatencyWindow window = new LatencyWindow(3);
    assertTrue(Double.isNaN(window.medianMilliseconds()));
    window.add(10);
    assertEquals(10, window.medianMilliseconds(), 0);
    window.add(2);
    assertEquals(6, window.medianMilliseconds(), 0);  // even count: the mean of the middle two
    window.add(100);
    assertEquals(10, window.medianMilliseconds(), 0);
    window.add(1);  // drops 10
    window.add(3);  // drops 2
    assertEquals(3, window.size());
    assertEquals(3, window.medianMilliseconds(), 0);
  }
}
