package org.intedge.demo;

import android.content.Context;
import android.content.res.AssetFileDescriptor;
import android.net.Uri;
import android.os.ParcelFileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import org.intedge.Session;
import org.intedge.demo.core.Vocabulary;

/** The bundled models and vocabulary (assets, written by export_models.sh), and models the user picks. */
final class Models {
  static final String CLASSIFIER = "vit-fmnist.ieg";
  static final String SEGMENTER = "segmenter-fmnist.ieg";
  static final String SENTENCE_ENCODER = "minilm.ieg";
  private static final String VOCABULARY = "vocab.txt";

  private Models() {}

  /**
   * A session on a model asset. The asset is stored uncompressed (app/build.gradle: noCompress 'ieg'), so
   * openFd gives the APK's file descriptor and the asset's offset in it, and the asset is mapped straight
   * from the APK, no copy on the Java side. Session.open(ByteBuffer) then has the engine copy the image
   * (the bridge's contract: the buffer may go once it returns), so the weights are resident once, in
   * native memory; true zero-copy needs an open by descriptor and offset in the C API (docs/android.md).
   */
  static Session openAsset(Context context, String name) throws IOException {
    try (AssetFileDescriptor asset = context.getAssets().openFd(name);
        FileInputStream apk = asset.createInputStream();
        FileChannel channel = apk.getChannel()) {
      MappedByteBuffer model =
          channel.map(FileChannel.MapMode.READ_ONLY, asset.getStartOffset(), asset.getLength());
      return Session.open(model, options());
    }
  }

  /** A session on a .ieg the user picked (ACTION_OPEN_DOCUMENT), mapped through its file descriptor. */
  static Session openDocument(Context context, Uri uri) throws IOException {
    try (ParcelFileDescriptor file = context.getContentResolver().openFileDescriptor(uri, "r");
        FileInputStream in = new FileInputStream(file.getFileDescriptor());
        FileChannel channel = in.getChannel()) {
      return Session.open(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()), options());
    }
  }

  /** MiniLM's WordPiece vocabulary. */
  static Vocabulary vocabulary(Context context) throws IOException {
    try (InputStream in = context.getAssets().open(VOCABULARY)) {
      return Vocabulary.read(in);
    }
  }

  /** Up to four threads: the engine's results do not depend on the count, only its latency does. */
  private static Session.Options options() {
    return new Session.Options().threads(Math.min(4, Runtime.getRuntime().availableProcessors()));
  }
}
