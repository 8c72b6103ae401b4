package org.intedge.demo.core;

import java.util.Arrays;

/** The last N latencies and their median: a live number that one slow run does not move. */
public final class LatencyWindow {
  private final double[] recent;
  private int count;
  private int next;

  /** A window over the last {@code capacity} latencies. */
  public LatencyWindow(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity " + capacity + " is not positive");
    }
    recent = new double[capacity];
  }

  /** Records one latency, dropping the oldest when the window is full. */
  public void add(double milliseconds) {
    recent[next] = milliseconds;
    next = (next + 1) % recent.length;
    count = Math.min(count + 1, recent.length);
  }

  /** How many latencies the median is over (at most the capacity). */
  public int size() {
    return count;
  }

  /** The median of the window (the mean of the middle two for an even count, as numpy's); NaN when empty. */
  public double medianMilliseconds() {
    if (count == 0) {
      return Double.NaN;
    }
    double[] sorted = Arrays.copyOf(recent, count);
    Arrays.sort(sorted);
    return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
  }
}
