package org.intedge.demo;

import android.app.Activity;
import android.content.Intent;
import android.os.Bundle;

/** The launcher screen: one entry per demo. */
public final class MainActivity extends Activity {
  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    setContentView(R.layout.activity_main);
    findViewById(R.id.open_classify).setOnClickListener(v -> open(ClassifyActivity.class));
    findViewById(R.id.open_segment).setOnClickListener(v -> open(SegmentActivity.class));
    findViewById(R.id.open_similarity).setOnClickListener(v -> open(SimilarityActivity.class));
  }

  private void open(Class<? extends Activity> screen) {
    startActivity(new Intent(this, screen));
  }
}
