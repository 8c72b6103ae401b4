package org.intedge.demo;

import android.graphics.Bitmap;
import android.text.SpannableStringBuilder;
import android.text.Spanned;
import android.text.style.ForegroundColorSpan;
import java.util.List;
import java.util.Locale;
import org.intedge.Session;
import org.intedge.Tensor;
import org.intedge.TensorInfo;
import org.intedge.demo.core.FashionMnist;
import org.intedge.demo.core.ImageInputSpec;
import org.intedge.demo.core.ImagePreprocessor;
import org.intedge.demo.core.SegmentationOverlay;

/** Segment: a picture → the bundled Segmenter → its garments coloured on the picture, with a legend. */
public final class SegmentActivity extends ImageActivity {
  /** How much of a garment's palette colour covers its pixels (of 255). */
  private static final int OVERLAY_ALPHA = 128;

  @Override
  String modelAsset() {
    return Models.SEGMENTER;
  }

  @Override
  void onPicture(Bitmap image) throws Exception {
    Session model = session;
    TensorInfo input = model.inputs().get(0);
    ImageInputSpec spec = ImageInputSpec.forShape(input.shape());
    int width = image.getWidth();
    int height = image.getHeight();
    int[] pixels = pixels(image);
    int[] square = ImagePreprocessor.cropAndResize(pixels, width, height, spec.size);
    boolean invert = ImagePreprocessor.hasLightBorder(square, spec.size);
    Tensor tensor = TensorConversions.image(input, ImagePreprocessor.toTensor(square, spec, invert));
    List<Tensor> outputs = benchmark.run(() -> model.run(tensor), RUNS);
    TensorInfo output = model.outputs().get(0);
    long[] shape = output.shape();  // [1, classes, S, S]: patch-level masks upsampled in the graph
    if (shape.length != 4 || shape[2] != shape[3]) {
      throw new IllegalArgumentException("output " + output + " is not [1, classes, S, S]");
    }
    int[] classMap = SegmentationOverlay.classMap(TensorConversions.floats(outputs.get(0), output),
        (int) shape[1], (int) shape[2], (int) shape[3]);
    Bitmap overlay = Bitmap.createBitmap(
        SegmentationOverlay.blend(pixels, width, height, classMap, (int) shape[2], OVERLAY_ALPHA),
        width, height, Bitmap.Config.ARGB_8888);
    CharSequence legend = legend(classMap, invert);
    String line = benchmark.statsLine(model);
    runOnUiThread(() -> {
      picture.setImageBitmap(overlay);
      result.setText(legend);
      stats.setText(line);
    });
  }

  /** "■ Trouser 12%  ■ Bag 8%", each square in its garment's colour. */
  private CharSequence legend(int[] classMap, boolean inverted) {
    SpannableStringBuilder legend = new SpannableStringBuilder();
    for (int cls : SegmentationOverlay.classesByArea(classMap)) {
      int start = legend.length();
      legend.append("■");
      legend.setSpan(new ForegroundColorSpan(SegmentationOverlay.PALETTE[cls]), start, legend.length(),
          Spanned.SPAN_EXCLUSIVE_EXCLUSIVE);
      legend.append(String.format(Locale.ROOT, " %s %.0f%%  ", FashionMnist.CLASSES[cls],
          100 * SegmentationOverlay.share(classMap, cls)));
    }
    if (inverted) {
      legend.append('\n').append(getString(R.string.inverted));
    }
    return legend;
  }
}
