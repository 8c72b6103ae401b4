package org.intedge.demo;

import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.os.BatteryManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.Callable;
import org.intedge.Session;
import org.intedge.demo.core.EnergyWindow;
import org.intedge.demo.core.LatencyWindow;
import org.intedge.demo.core.ProcStatus;
import org.intedge.demo.core.StatsLine;

/**
 * A screen's live numbers: each inference is timed (JNI and output buffers included) into a window of the
 * last {@value #WINDOW}, and the battery's current is read after each one for the energy of the burst.
 * Used from the screen's worker thread only.
 */
final class Benchmark {
  static final int WINDOW = 20;

  private final Context context;
  private final BatteryManager battery;
  private final LatencyWindow latency = new LatencyWindow(WINDOW);
  private double joulesPerInference = Double.NaN;
  private String energyCaveat;

  Benchmark(Context context) {
    this.context = context.getApplicationContext();
    this.battery = context.getSystemService(BatteryManager.class);
  }

  /** Runs {@code inference} {@code runs} times; returns the last result. */
  <T> T run(Callable<T> inference, int runs) throws Exception {
    // The sticky battery broadcast: voltage (mV) and whether a charger is plugged in; read once a burst.
    Intent state = context.registerReceiver(null, new IntentFilter(Intent.ACTION_BATTERY_CHANGED));
    int voltage = state != null ? state.getIntExtra(BatteryManager.EXTRA_VOLTAGE, 0) : 0;
    boolean pluggedIn = state != null && state.getIntExtra(BatteryManager.EXTRA_PLUGGED, 0) != 0;
    EnergyWindow energy = new EnergyWindow(voltage, pluggedIn);
    T result = null;
    long burstStart = System.nanoTime();
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      result = inference.call();
      latency.add((System.nanoTime() - start) / 1e6);
      energy.addCurrent(battery.getIntProperty(BatteryManager.BATTERY_PROPERTY_CURRENT_NOW));
    }
    joulesPerInference = energy.joulesPerInference((System.nanoTime() - burstStart) / 1e9, runs);
    energyCaveat = energy.caveat();
    return result;
  }

  /** "3.1 ms median of 20 · arena 54 KB · weights 1.0 MB · RSS 40 MB · 0.80 mJ/inf · neon-dotprod". */
  String statsLine(Session session) {
    return StatsLine.format(latency, session.arenaBytes(), session.weightBytes(), residentBytes(),
        joulesPerInference, energyCaveat, session.isa());
  }

  private static long residentBytes() {
    try {
      return ProcStatus.residentBytes(
          new String(Files.readAllBytes(Paths.get("/proc/self/status")), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return -1;
    }
  }
}
