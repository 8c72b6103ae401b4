package org.intedge.demo;

import android.content.ActivityNotFoundException;
import android.content.Intent;
import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import android.net.Uri;
import android.os.Build;
import android.os.Bundle;
import android.provider.MediaStore;
import android.widget.Button;
import android.widget.ImageView;
import android.widget.TextView;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.intedge.Session;
import org.intedge.demo.core.DecodeSampling;

/**
 * Classify's and Segment's shared screen: a picture from the gallery or the camera, decoded small enough
 * to hold, handed to the subclass's model on the worker thread.
 */
abstract class ImageActivity extends ModelActivity {
  private static final int PICK_IMAGE = 1;
  private static final int TAKE_PHOTO = 2;
  /** A decoded picture keeps at least this many pixels on its shorter side: enough to show the overlay. */
  private static final int DECODED_SIDE = 768;
  /** Inferences a picture gets: one burst fills the latency window. */
  static final int RUNS = Benchmark.WINDOW;

  ImageView picture;
  TextView stats;
  private Button gallery;
  private Button camera;

  /** The asset this screen's model comes from. */
  abstract String modelAsset();

  /** On the worker thread: the model on this picture; show the outcome with runOnUiThread. */
  abstract void onPicture(Bitmap image) throws Exception;

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    setContentView(R.layout.activity_image);
    picture = findViewById(R.id.picture);
    result = findViewById(R.id.result);
    stats = findViewById(R.id.stats);
    gallery = findViewById(R.id.gallery);
    camera = findViewById(R.id.camera);
    gallery.setOnClickListener(v -> pickImage());
    camera.setOnClickListener(v -> takePhoto());
    result.setText(getString(R.string.loading_model, modelAsset()));
    onWorker(() -> useModel(Models.openAsset(this, modelAsset()), modelAsset()));
  }

  /** On the worker thread: run pictures through {@code opened} from now on. */
  void useModel(Session opened, String name) {
    useSession(opened);
    runOnUiThread(() -> {
      gallery.setEnabled(true);
      camera.setEnabled(true);
      result.setText(getString(R.string.model_ready, name));
      stats.setText(null);
    });
  }

  private void pickImage() {
    Intent pick = new Intent(Intent.ACTION_GET_CONTENT).setType("image/*").addCategory(Intent.CATEGORY_OPENABLE);
    startActivityForResult(Intent.createChooser(pick, getString(R.string.pick_image)), PICK_IMAGE);
  }

  /** The camera app's thumbnail (no EXTRA_OUTPUT: so no file provider and no storage permission). */
  private void takePhoto() {
    try {
      startActivityForResult(new Intent(MediaStore.ACTION_IMAGE_CAPTURE), TAKE_PHOTO);
    } catch (ActivityNotFoundException e) {
      result.setText(R.string.no_camera);
    }
  }

  @Override
  protected void onActivityResult(int requestCode, int resultCode, Intent data) {
    super.onActivityResult(requestCode, resultCode, data);
    if (resultCode != RESULT_OK || data == null) {
      return;
    }
    if (requestCode == PICK_IMAGE && data.getData() != null) {
      Uri uri = data.getData();
      result.setText(R.string.running);
      onWorker(() -> onPicture(decode(uri)));
    } else if (requestCode == TAKE_PHOTO) {
      Bitmap thumbnail = thumbnail(data);
      if (thumbnail != null) {
        result.setText(R.string.running);
        onWorker(() -> onPicture(thumbnail));
      }
    }
  }

  /** The picture, subsampled while decoding (a 12-megapixel photo would be a 48 MB pixel array). */
  private Bitmap decode(Uri uri) throws IOException {
    BitmapFactory.Options bounds = new BitmapFactory.Options();
    bounds.inJustDecodeBounds = true;
    try (InputStream in = getContentResolver().openInputStream(uri)) {
      BitmapFactory.decodeStream(in, null, bounds);
    }
    BitmapFactory.Options options = new BitmapFactory.Options();
    options.inSampleSize = DecodeSampling.inSampleSize(bounds.outWidth, bounds.outHeight, DECODED_SIDE);
    options.inPreferredConfig = Bitmap.Config.ARGB_8888;
    try (InputStream in = getContentResolver().openInputStream(uri)) {
      Bitmap image = BitmapFactory.decodeStream(in, null, options);
      if (image == null) {
        throw new FileNotFoundException(uri + " is not a picture Android can decode");
      }
      return image;
    }
  }

  @SuppressWarnings("deprecation")  // the typed getParcelableExtra is API 33+
  private static Bitmap thumbnail(Intent data) {
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
      return data.getParcelableExtra("data", Bitmap.class);
    }
    return data.getParcelableExtra("data");
  }

  /** The picture's pixels as ARGB ints, row-major: what core's pre-processing takes. */
  static int[] pixels(Bitmap image) {
    int[] argb = new int[image.getWidth() * image.getHeight()];
    image.getPixels(argb, 0, image.getWidth(), 0, 0, image.getWidth(), image.getHeight());
    return argb;
  }
}
