package org.intedge.demo.core;

/**
 * Android's battery readings → amps, volts and watts, whatever units and sign the phone's fuel gauge uses.
 *
 * <ul>
 *   <li>Current: {@code BatteryManager.getIntProperty(BATTERY_PROPERTY_CURRENT_NOW)}, µA by the
 *       documentation, mA on some vendors' gauges; positive while charging by the documentation, the
 *       reverse on some phones, so its magnitude is used. {@code Integer.MIN_VALUE} (API 28+) or 0 (older)
 *       means the gauge does not tell.</li>
 *   <li>Voltage: the sticky {@code ACTION_BATTERY_CHANGED} intent's {@code EXTRA_VOLTAGE}, mV by the
 *       documentation, V or µV on some phones.</li>
 * </ul>
 *
 * Units are told apart by magnitude, as the profiler does (docs/energy.md): a phone at work draws 10 mA
 * to 10 A, so |I| ≥ 10 000 is µA and less is mA; a battery gives 2.5 to 20 V, so ≥ 100 000 is µV, ≥ 100
 * mV, and less V.
 */
public final class BatteryPower {
  private BatteryPower() {}

  /** |I| in amps from {@code BATTERY_PROPERTY_CURRENT_NOW}; NaN when the gauge does not tell. */
  public static double amps(int currentNow) {
    if (currentNow == Integer.MIN_VALUE || currentNow == 0) {
      return Double.NaN;
    }
    double magnitude = Math.abs((double) currentNow);
    return magnitude >= 10_000 ? magnitude * 1e-6 : magnitude * 1e-3;
  }

  /** V in volts from {@code EXTRA_VOLTAGE}; NaN when it is not positive. */
  public static double volts(int voltage) {
    if (voltage <= 0) {
      return Double.NaN;
    }
    return voltage >= 100_000 ? voltage * 1e-6 : voltage >= 100 ? voltage * 1e-3 : voltage;
  }
}
