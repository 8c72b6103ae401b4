package org.intedge.demo.core;

/**
 * Energy per inference over a burst of inferences, from the battery's current sampled during the burst:
 * the mean of |I| · V over the samples × the burst's duration ÷ its inferences.
 *
 * It is the whole phone's energy (screen, radios, the app around the engine) and a fuel gauge's, which
 * many phones update only every 0.25–10 s: coarser than {@code intedge profile --target adb}, which
 * samples the same gauge over a longer run and subtracts the idle draw (docs/android.md).
 */
public final class EnergyWindow {
  private final double volts;
  private final boolean pluggedIn;
  private double wattsSum;
  private int samples;
  private int firstCurrent;
  private boolean currentChanged;

  /**
   * @param voltage   {@code EXTRA_VOLTAGE} of the sticky {@code ACTION_BATTERY_CHANGED} intent, read once
   *                  per burst (it moves slowly)
   * @param pluggedIn whether that intent's {@code EXTRA_PLUGGED} is non-zero: the current is then the
   *                  phone's draw net of the charger's
   */
  public EnergyWindow(int voltage, boolean pluggedIn) {
    this.volts = BatteryPower.volts(voltage);
    this.pluggedIn = pluggedIn;
  }

  /** Records one {@code BATTERY_PROPERTY_CURRENT_NOW} reading; one the gauge does not give is skipped. */
  public void addCurrent(int currentNow) {
    double watts = BatteryPower.amps(currentNow) * volts;
    if (Double.isNaN(watts)) {
      return;
    }
    if (samples == 0) {
      firstCurrent = currentNow;
    } else if (currentNow != firstCurrent) {
      currentChanged = true;
    }
    wattsSum += watts;
    samples++;
  }

  /** Joules per inference for {@code inferences} runs in {@code seconds}; NaN without a usable reading. */
  public double joulesPerInference(double seconds, int inferences) {
    if (samples == 0 || inferences <= 0) {
      return Double.NaN;
    }
    return wattsSum / samples * seconds / inferences;
  }

  /** What weakens the figure, or null: a charger, or a gauge that did not update during the burst. */
  public String caveat() {
    if (pluggedIn) {
      return "plugged in: net of the charger";
    }
    if (samples > 0 && !currentChanged) {
      return "one gauge reading";
    }
    return null;
  }
}
