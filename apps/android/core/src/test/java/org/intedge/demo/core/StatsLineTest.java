package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class StatsLineTest {
  @Test
  public void theLineEachScreenShows() {
    LatencyWindow latency = new LatencyWindow(20);
    for (int i = 0; i < 20; i++) {
      latency.add(i % 2 == 0 ? 3.0 : 3.2);
    }
    assertEquals("3.1 ms median of 20 · arena 54 KB · weights 1.0 MB · RSS 40 MB · 0.80 mJ/inf · neon-dotprod",
        StatsLine.format(latency, 54_321, 1_012_000, 40_100_000, 0.0008, null, "neon-dotprod"));
  }

  @Test
  public void unknownsAndCaveats() {
    assertEquals("no runs yet · arena 512 B · weights 35 MB · RSS n/a · energy n/a · avx2",
        StatsLine.format(new LatencyWindow(5), 512, 34_600_000, -1, Double.NaN, "one gauge reading", "avx2"));
    LatencyWindow one = new LatencyWindow(5);
    one.add(0.456);
    assertEquals("0.46 ms median of 1 · arena 1.2 GB · weights 999 KB · RSS 12 KB · 2.5 J/inf (plugged in: net of "
            + "the charger) · scalar",
        StatsLine.format(one, 1_234_000_000, 999_499, 12_000, 2.5, "plugged in: net of the charger", "scalar"));
  }

  @Test
  public void numbersKeepTwoSignificantFigures() {
    assertEquals("0.05", StatsLine.number(0.0512));
    assertEquals("1.0", StatsLine.number(0.999));
    assertEquals("10", StatsLine.number(9.96));
    assertEquals("123", StatsLine.number(123.4));
    assertEquals("45 µJ/inf", StatsLine.joules(45e-6));
  }
}
