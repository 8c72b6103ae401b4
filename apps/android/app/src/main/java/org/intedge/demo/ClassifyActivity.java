package org.intedge.demo;

import android.content.Intent;
import android.graphics.Bitmap;
import android.net.Uri;
import android.os.Bundle;
import android.view.View;
import android.widget.Button;
import java.util.List;
import org.intedge.Session;
import org.intedge.Tensor;
import org.intedge.TensorInfo;
import org.intedge.demo.core.FashionMnist;
import org.intedge.demo.core.ImageInputSpec;
import org.intedge.demo.core.ImagePreprocessor;
import org.intedge.demo.core.Prediction;
import org.intedge.demo.core.TopK;

/**
 * Classify: a picture → the bundled ViT (or any .ieg with one [1, 1 or 3, S, S] image input the user
 * opens) → its three most probable classes.
 */
public final class ClassifyActivity extends ImageActivity {
  private static final int PICK_MODEL = 3;
  private static final int SHOWN = 3;

  @Override
  String modelAsset() {
    return Models.CLASSIFIER;
  }

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    Button openModel = findViewById(R.id.open_model);
    openModel.setVisibility(View.VISIBLE);
    openModel.setOnClickListener(v -> startActivityForResult(
        new Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("*/*"), PICK_MODEL));
  }

  @Override
  protected void onActivityResult(int requestCode, int resultCode, Intent data) {
    if (requestCode != PICK_MODEL) {
      super.onActivityResult(requestCode, resultCode, data);
      return;
    }
    if (resultCode == RESULT_OK && data != null && data.getData() != null) {
      Uri uri = data.getData();
      onWorker(() -> useModel(Models.openDocument(this, uri), uri.getLastPathSegment()));
    }
  }

  @Override
  void onPicture(Bitmap image) throws Exception {
    Session model = session;
    TensorInfo input = model.inputs().get(0);
    ImageInputSpec spec = ImageInputSpec.forShape(input.shape());
    int[] square = ImagePreprocessor.cropAndResize(pixels(image), image.getWidth(), image.getHeight(), spec.size);
    boolean invert = ImagePreprocessor.hasLightBorder(square, spec.size);
    Tensor tensor = TensorConversions.image(input, ImagePreprocessor.toTensor(square, spec, invert));
    List<Tensor> outputs = benchmark.run(() -> model.run(tensor), RUNS);
    float[] logits = TensorConversions.floats(outputs.get(0), model.outputs().get(0));
    String[] labels = logits.length == FashionMnist.CLASSES.length ? FashionMnist.CLASSES : new String[0];
    StringBuilder answer = new StringBuilder();
    for (Prediction p : TopK.of(logits, labels, SHOWN)) {
      answer.append(p).append('\n');
    }
    if (invert) {
      answer.append(getString(R.string.inverted));
    }
    String line = benchmark.statsLine(model);
    runOnUiThread(() -> {
      picture.setImageBitmap(image);
      result.setText(answer.toString().trim());
      stats.setText(line);
    });
  }
}
