package org.intedge.demo.core;

import java.util.Locale;

/**
 * The one line each screen shows under its result:
 * "3.1 ms median of 20 · arena 54 KB · weights 1.0 MB · RSS 40 MB · 0.8 mJ/inf · neon-dotprod".
 *
 * Sizes are decimal (1 KB = 1000 bytes); numbers keep two significant figures or more (0.45, 3.1, 54);
 * energy is in mJ from 0.10 mJ to 1 J.
 */
public final class StatsLine {
  private static final String SEPARATOR = " · ";

  private StatsLine() {}

  /**
   * @param latency           the screen's recent latencies
   * @param arenaBytes        the session's activation arena
   * @param weightBytes       the session's weights (mapped and repacked)
   * @param rssBytes          the process's resident set ({@link ProcStatus}), -1 when unknown
   * @param joulesPerInference from {@link EnergyWindow}, NaN when unknown
   * @param energyCaveat      {@link EnergyWindow#caveat()}, or null
   * @param isa               the kernel path the session chose ("neon-dotprod", "avx2", …)
   */
  public static String format(LatencyWindow latency, long arenaBytes, long weightBytes, long rssBytes,
                double joulesPerInference, String energyCaveat, String isa) {
    StringBuilder line = new StringBuilder();
    if (latency.size() == 0) {
      line.append("no runs yet");
    } else {
      line.append(number(latency.medianMilliseconds())).append(" ms median of ").append(latency.size());
    }
    line.append(SEPARATOR).append("arena ").append(bytes(arenaBytes));
    line.append(SEPARATOR).append("weights ").append(bytes(weightBytes));
    line.append(SEPARATOR).append("RSS ").append(rssBytes < 0 ? "n/a" : bytes(rssBytes));
    line.append(SEPARATOR).append(Double.isNaN(joulesPerInference) ? "energy n/a" : joules(joulesPerInference));
    if (energyCaveat != null && !Double.isNaN(joulesPerInference)) {
      line.append(" (").append(energyCaveat).append(')');
    }
    return line.append(SEPARATOR).append(isa).toString();
  }

  static String bytes(long bytes) {
    if (bytes < 1000) {
      return bytes + " B";
    }
    String[] units = {"KB", "MB", "GB"};
    double value = bytes / 1000.0;
    int unit = 0;
    while (value >= 999.5 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return number(value) + " " + units[unit];
  }

  static String joules(double joules) {
    if (joules >= 1) {
      return number(joules) + " J/inf";
    }
    if (joules >= 1e-4) {
      return number(joules * 1e3) + " mJ/inf";
    }
    return number(joules * 1e6) + " µJ/inf";
  }

  /** Two significant figures or more: 0.45, 3.1, 54, 1234. */
  static String number(double value) {
    double magnitude = Math.abs(value);
    String format = magnitude >= 9.95 ? "%.0f" : magnitude >= 0.995 ? "%.1f" : "%.2f";
    return String.format(Locale.ROOT, format, value);
  }
}
