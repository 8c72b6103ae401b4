package org.intedge.demo;

import android.app.Activity;
import android.os.Bundle;
import android.widget.TextView;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.intedge.Session;

/**
 * A screen that runs a model: one worker thread owns the session (opens, runs and closes it), the
 * benchmark times what it runs, and failures show in the screen's result text.
 */
abstract class ModelActivity extends Activity {
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  Benchmark benchmark;
  /** Read and written on the worker thread only. */
  Session session;
  /** Where the answer goes, and what the worker's failures say: set by the subclass's layout. */
  TextView result;

  /** Work for the worker thread that may fail. */
  interface Task {
    void run() throws Exception;
  }

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    benchmark = new Benchmark(this);
  }

  /** Runs {@code task} on the worker thread, after the tasks before it; what it throws shows as the result. */
  void onWorker(Task task) {
    worker.execute(() -> {
      try {
        task.run();
      } catch (Exception | LinkageError e) {  // LinkageError: libintedge_jni.so missing or stale
        runOnUiThread(() -> result.setText(e.toString()));
      }
    });
  }

  /** On the worker thread: make {@code opened} the screen's session, closing the one before. */
  void useSession(Session opened) {
    if (session != null) {
      session.close();
    }
    session = opened;
  }

  @Override
  protected void onDestroy() {
    onWorker(() -> useSession(null));
    worker.shutdown();
    super.onDestroy();
  }
}
