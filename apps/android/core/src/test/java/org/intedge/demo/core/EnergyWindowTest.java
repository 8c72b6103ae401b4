package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class EnergyWindowTest {
  @Test
  public void unitsAndSignsOfTheGauges() {
    assertEquals(0.45, BatteryPower.amps(-450_000), 1e-12);  // µA, discharging negative (the documentation's)
    assertEquals(0.45, BatteryPower.amps(450_000), 1e-12);   // µA, a vendor's positive discharge
    assertEquals(0.45, BatteryPower.amps(450), 1e-12);       // mA
    assertTrue(Double.isNaN(BatteryPower.amps(Integer.MIN_VALUE)));
    assertTrue(Double.isNaN(BatteryPower.amps(0)));
    assertEquals(3.85, BatteryPower.volts(3850), 1e-12);       // mV, the documentation's
    assertEquals(3.85, BatteryPower.volts(3_850_000), 1e-12);  // µV
    assertEquals(4.0, BatteryPower.volts(4), 1e-12);           // V
    assertTrue(Double.isNaN(BatteryPower.volts(-1)));
  }

  @Test
  public void meanPowerTimesDurationOverInferences() {
    EnergyWindow window = new EnergyWindow(4000, false);  // 4 V
    window.addCurrent(-500_000);                          // 0.5 A: 2 W
    window.addCurrent(Integer.MIN_VALUE);                 // no reading: skipped
    window.addCurrent(-1_000_000);                        // 1 A: 4 W
    // 3 W mean over 0.2 s for 40 inferences: 15 mJ each
    assertEquals(0.015, window.joulesPerInference(0.2, 40), 1e-12);
    assertNull(window.caveat());
  }

  @Test
  public void caveatsAndNoReadings() {
    EnergyWindow still = new EnergyWindow(3800, false);
    still.addCurrent(300_000);
    still.addCurrent(300_000);
    assertEquals("one gauge reading", still.caveat());
    EnergyWindow plugged = new EnergyWindow(3800, true);
    plugged.addCurrent(300_000);
    assertEquals("plugged in: net of the charger", plugged.caveat());
    EnergyWindow none = new EnergyWindow(3800, false);
    none.addCurrent(0);
    assertTrue(Double.isNaN(none.joulesPerInference(1, 10)));
    assertNull(none.caveat());
  }
}
