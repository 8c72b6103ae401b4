package org.intedge;

/**
 * Loads libintedge_jni.so once, before the first native call. A full path in the system property or the
 * environment variable {@code INTEDGE_JNI_LIB} (a JVM: tests, desktop tools) is loaded with
 * {@link System#load}; otherwise {@code System.loadLibrary("intedge_jni")} finds it on Android (the APK's
 * jniLibs) or on a JVM's {@code -Djava.library.path}.
 */
final class NativeLibrary {
  static final String PROPERTY = "INTEDGE_JNI_LIB";
  private static boolean loaded;

  private NativeLibrary() {}

  static synchronized void load() {
    if (loaded) {
      return;
    }
    String path = System.getProperty(PROPERTY);
    if (path == null || path.isEmpty()) {
      path = System.getenv(PROPERTY);
    }
    try {
      if (path != null && !path.isEmpty()) {
        System.load(path);
      } else {
        System.loadLibrary("intedge_jni");
      }
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError more = new UnsatisfiedLinkError("intedge: cannot load "
          + (path != null && !path.isEmpty() ? path + " (" + PROPERTY + ")"
              : "libintedge_jni.so from java.library.path (or set " + PROPERTY + " to its full path)")
          + ": " + e.getMessage());
      more.initCause(e);
      throw more;
    }
    loaded = true;
  }
}
