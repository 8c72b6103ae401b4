package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class DecodeSamplingTest {
  @Test
  public void largestPowerOfTwoKeepingTheShorterSide() {
    assertEquals(4, DecodeSampling.inSampleSize(4000, 3000, 512));  // 3000 / 4 = 750 ≥ 512, / 8 = 375 < 512
    assertEquals(1, DecodeSampling.inSampleSize(160, 120, 512));
    assertEquals(2, DecodeSampling.inSampleSize(1024, 2048, 512));
  }
}
