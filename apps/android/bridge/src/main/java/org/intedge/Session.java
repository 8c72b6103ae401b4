package org.intedge;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A .ieg graph loaded into the intedge engine: the C API's {@code ie_session} (include/intedge/intedge.h),
 * through libintedge_jni.so. Its outputs equal the Python {@code intedge.runtime.Session}'s and the reference
 * executor's bit for bit, on every ISA and thread count.
 *
 * <pre>{@code
 * try (Session s = Session.open("model.ieg", new Session.Options().threads(2))) {
 *   Tensor image = Tensor.of(pixels, 1, 1, 28, 28);            // float32, the graph quantizes it
 *   List<Tensor> out = s.run(image);                           // in graph order
 *   float[] logits = out.get(0).toFloatArray();
 * }
 * }</pre>
 *
 * <p>Errors: whatever the C API refuses (a file that is not a valid .ieg, a wrong input dtype, shape or
 * count, a dynamic length out of range) throws {@link IntedgeException} with its message and status. Any
 * call after {@link #close()} throws {@link IllegalStateException}.
 *
 * <p>Threads: as the C API. One session may be shared: {@link #run} calls from several threads are correct
 * and take turns (the session has one activation arena); open a session per thread to run side by side.
 * {@link #close()} waits for the calls in progress, then frees the native session. Close every session you
 * open (try-with-resources): nothing frees it for you.
 */
public final class Session implements AutoCloseable {
  static {
    NativeLibrary.load();
  }

  /** What {@code ie_session_options} holds; the defaults are the C API's. */
  public static final class Options {
    private int threads = 1;
    private String isa;
    private boolean profile;
    private boolean checkFinite = true;
    private long maxArenaBytes;

    /** Worker threads (at least 1; results do not depend on it). Default 1. */
    public Options threads(int threads) {
      this.threads = threads;
      return this;
    }

    /**
     * Force a kernel path: scalar, avx2, avxvnni, avx512vnni, amx, neon, neon-dotprod, neon-i8mm
     * ({@link #supportedIsas()} lists this CPU's). Default null: $INTEDGE_ISA, else the best this CPU runs.
     */
    public Options isa(String isa) {
      this.isa = isa;
      return this;
    }

    /** Time every op ({@link Session#ops()}). Default off. */
    public Options profile(boolean profile) {
      this.profile = profile;
      return this;
    }

    /**
     * Refuse float32 inputs holding NaN or +/-inf (IntedgeException). Default on; off, NaN quantizes to 0 and
     * +/-inf saturates.
     */
    public Options checkFinite(boolean checkFinite) {
      this.checkFinite = checkFinite;
      return this;
    }

    /** Above 0: opening fails (OUT_OF_MEMORY) when the activations need more. Default 0: no limit. */
    public Options maxArenaBytes(long maxArenaBytes) {
      this.maxArenaBytes = maxArenaBytes;
      return this;
    }

    public int threads() {
      return threads;
    }

    public String isa() {
      return isa;
    }

    public boolean profile() {
      return profile;
    }

    public boolean checkFinite() {
      return checkFinite;
    }

    public long maxArenaBytes() {
      return maxArenaBytes;
    }
  }

  /** One entry of the kernel table ({@code ie_op_info}): the op, its kernel, and its time when profiling. */
  public static final class OpInfo {
    private final String kind;
    private final String name;
    private final String kernel;
    private final double totalMicros;
    private final long runs;

    OpInfo(String kind, String name, String kernel, double totalMicros, long runs) {
      this.kind = kind;
      this.name = name;
      this.kernel = kernel;
      this.totalMicros = totalMicros;
      this.runs = runs;
    }

    /** The op spec's name, e.g. "qlinear". */
    public String kind() {
      return kind;
    }

    /** The op's name in the file. */
    public String name() {
      return name;
    }

    /** The kernel chosen when the session opened, e.g. "gemm_w8a8_neon_i8mm". */
    public String kernel() {
      return kernel;
    }

    /** Time in this op over all runs (Options.profile), else 0. */
    public double totalMicros() {
      return totalMicros;
    }

    public long runs() {
      return runs;
    }

    public double meanMicros() {
      return runs > 0 ? totalMicros / runs : 0;
    }

    @Override
    public String toString() {
      return kind + " " + name + ": " + kernel + (runs > 0 ? String.format(" %.1f us x %d", meanMicros(), runs) : "");
    }
  }

  private static final int META_FIELDS = 4; // nativeInfo's meta: dtype, rank, bytes, dynamic axes, then shape
  private static final int MAX_RANK = 8; // IE_MAX_RANK

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private long handle; // the ie_session*; 0 once closed. Read under the read lock, cleared under the write lock.
  private final List<TensorInfo> inputs;
  private final List<TensorInfo> outputs;
  private final long dynamicBound;
  private final String dynamicName;

  private Session(long handle) {
    this.handle = handle;
    try {
      inputs = infos(handle, false, nativeInputCount(handle));
      outputs = infos(handle, true, nativeOutputCount(handle));
      dynamicBound = nativeDynamicBound(handle);
      dynamicName = dynamicBound != 0 ? utf8(nativeDynamicName(handle)) : null;
    } catch (RuntimeException | Error e) {
      nativeClose(handle);
      this.handle = 0;
      throw e;
    }
  }

  // ---- Opening -----------------------------------------------------------------------------------------

  /** A session on a .ieg file, with the default options. */
  public static Session open(String path) {
    return open(path, new Options());
  }

  /** A session on a .ieg file: the engine maps it and uses the weights in place. Errors start with the path. */
  public static Session open(String path, Options options) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(options, "options");
    return new Session(nativeOpenFile(cString(path, "path"), options.threads, isaBytes(options), options.profile,
        options.checkFinite, options.maxArenaBytes));
  }

  public static Session open(Path path) {
    return open(path, new Options());
  }

  /** A session on a .ieg file of the default file system. */
  public static Session open(Path path, Options options) {
    Objects.requireNonNull(path, "path");
    if (path.getFileSystem() != FileSystems.getDefault()) {
      throw new IllegalArgumentException(path + " is not on the default file system: open its bytes instead");
    }
    return open(path.toString(), options);
  }

  public static Session open(ByteBuffer model) {
    return open(model, new Options());
  }

  /**
   * A session on a .ieg image: model's remaining bytes (its position is left as it is), copied by the engine,
   * so the buffer may be reused once this returns. A MappedByteBuffer (an Android asset's file descriptor,
   * FileChannel.map) is read directly; a heap buffer is copied to a direct one first.
   */
  public static Session open(ByteBuffer model, Options options) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(options, "options");
    ByteBuffer direct = model.isDirect() ? model.slice() : Tensor.directCopy(model);
    return new Session(nativeOpenBuffer(direct, options.threads, isaBytes(options), options.profile,
        options.checkFinite, options.maxArenaBytes));
  }

  public static Session open(byte[] model) {
    return open(model, new Options());
  }

  public static Session open(byte[] model, Options options) {
    return open(ByteBuffer.wrap(Objects.requireNonNull(model, "model")), options);
  }

  // ---- What the library knows ----------------------------------------------------------------------------

  /** Every kernel path this library knows by name, on any CPU (scalar first). */
  public static List<String> knownIsas() {
    List<String> names = new ArrayList<>();
    for (int i = 0; ; ++i) {
      String name = nativeIsaName(i);
      if (name == null) {
        return Collections.unmodifiableList(names);
      }
      names.add(name);
    }
  }

  /** The kernel paths this library runs on this CPU, scalar first, best last. */
  public static List<String> supportedIsas() {
    List<String> names = new ArrayList<>();
    for (String isa : knownIsas()) {
      if (nativeIsaSupported(isa.getBytes(StandardCharsets.UTF_8))) {
        names.add(isa);
      }
    }
    return Collections.unmodifiableList(names);
  }

  /** The .ieg format version this library reads, "major.minor". */
  public static String formatVersion() {
    int v = nativeFormatVersion();
    return (v >>> 16) + "." + (v & 0xffff);
  }

  // ---- The graph ---------------------------------------------------------------------------------------

  /** The graph's inputs, in order: what {@link #run(Tensor...)} takes. */
  public List<TensorInfo> inputs() {
    check();
    return inputs;
  }

  /** The graph's outputs, in order: what {@link #run(Tensor...)} returns (shapes at the bound). */
  public List<TensorInfo> outputs() {
    check();
    return outputs;
  }

  /**
   * The bound L of the graph's dynamic dimension, 0 when it has none. Then inputs whose dynamic axes
   * ({@link TensorInfo#dynamicAxes()}) hold k*s instead of k*L, for one length s in [1, L], run at s, and the
   * outputs come back with their shapes at s.
   */
  public long dynamicBound() {
    check();
    return dynamicBound;
  }

  /** The dynamic dimension's name (e.g. "seq"), or null when the graph has none. */
  public String dynamicName() {
    check();
    return dynamicName;
  }

  // ---- Running -----------------------------------------------------------------------------------------

  /**
   * Runs once on the graph's inputs in order; returns its outputs in order, each named, in a direct buffer
   * of its own (native byte order). Each input must have the graph input's dtype and shape exactly (a
   * dynamic graph's: at one length), and its name, when it has one; else IntedgeException (INVALID_ARGUMENT)
   * with the C API's message. Heap buffers are copied to direct ones first.
   */
  public List<Tensor> run(Tensor... in) {
    int n = Objects.requireNonNull(in, "inputs").length;
    ByteBuffer[] data = new ByteBuffer[n];
    byte[][] names = new byte[n][];
    int[] dtypes = new int[n];
    long[][] shapes = new long[n][];
    for (int i = 0; i < n; ++i) {
      Tensor t = in[i];
      if (t == null) {
        throw new NullPointerException("input " + i + " is null");
      }
      data[i] = t.directData();
      names[i] = t.name() != null ? t.name().getBytes(StandardCharsets.UTF_8) : null;
      dtypes[i] = t.dtype().code();
      shapes[i] = t.shape();
    }
    Lock read = lock.readLock();
    read.lock();
    try {
      long h = live();
      int m = outputs.size();
      ByteBuffer[] out = new ByteBuffer[m];
      long[][] outShapes = new long[m][MAX_RANK];
      int[] outRanks = new int[m];
      long[] outBytes = new long[m];
      for (int j = 0; j < m; ++j) {
        long bytes = outputs.get(j).byteSize();
        if (bytes > Integer.MAX_VALUE) {
          throw new IntedgeException(IntedgeException.Status.OUT_OF_MEMORY,
              "output '" + outputs.get(j).name() + "' needs " + bytes + " bytes, more than a ByteBuffer holds");
        }
        out[j] = Tensor.direct((int) bytes);
      }
      nativeRun(h, data, names, dtypes, shapes, out, outShapes, outRanks, outBytes);
      List<Tensor> result = new ArrayList<>(m);
      for (int j = 0; j < m; ++j) {
        ByteBuffer b = out[j];
        if (outBytes[j] != b.capacity()) { // a dynamic graph run below its bound
          ((Buffer) b).limit((int) outBytes[j]);
        }
        TensorInfo info = outputs.get(j);
        result.add(new Tensor(info.name(), info.dtype(), Arrays.copyOf(outShapes[j], outRanks[j]), b));
      }
      return Collections.unmodifiableList(result);
    } finally {
      read.unlock();
    }
  }

  /**
   * Runs once on named inputs (every graph input, no other); returns {output name: tensor} in graph order.
   * A missing or unknown name throws IntedgeException (INVALID_ARGUMENT) naming them.
   */
  public Map<String, Tensor> run(Map<String, Tensor> named) {
    Objects.requireNonNull(named, "inputs");
    List<TensorInfo> graphInputs = inputs();
    List<String> want = new ArrayList<>();
    for (TensorInfo t : graphInputs) {
      want.add(t.name());
    }
    TreeSet<String> missing = new TreeSet<>(want);
    missing.removeAll(named.keySet());
    TreeSet<String> unknown = new TreeSet<>(named.keySet());
    unknown.removeAll(want);
    if (!missing.isEmpty() || !unknown.isEmpty()) {
      String problems = (missing.isEmpty() ? "" : "missing " + missing)
          + (!missing.isEmpty() && !unknown.isEmpty() ? ", " : "")
          + (unknown.isEmpty() ? "" : "not the graph's " + unknown);
      throw new IntedgeException(IntedgeException.Status.INVALID_ARGUMENT,
          "inputs: " + problems + " (the graph takes " + want + ")");
    }
    Tensor[] ordered = new Tensor[want.size()];
    for (int i = 0; i < ordered.length; ++i) {
      Tensor t = named.get(want.get(i));
      if (t == null) {
        throw new NullPointerException("input '" + want.get(i) + "' is null");
      }
      ordered[i] = t.withName(want.get(i));
    }
    Map<String, Tensor> result = new LinkedHashMap<>();
    for (Tensor t : run(ordered)) {
      result.put(t.name(), t);
    }
    return Collections.unmodifiableMap(result);
  }

  // ---- What the session chose and holds ------------------------------------------------------------------

  /** The kernel path this session runs, e.g. "neon-dotprod". */
  public String isa() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return nativeIsa(live());
    } finally {
      read.unlock();
    }
  }

  public int threads() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return nativeThreads(live());
    } finally {
      read.unlock();
    }
  }

  /** Activation memory, planned. */
  public long arenaBytes() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return nativeArenaBytes(live());
    } finally {
      read.unlock();
    }
  }

  /** Weights the kernels read: repacked copies plus constants used in place. */
  public long weightBytes() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return nativeWeightBytes(live());
    } finally {
      read.unlock();
    }
  }

  /** Of {@link #weightBytes()}, the repacked copies; the rest are read in place (mapped, from a file). */
  public long packedWeightBytes() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return nativePackedWeightBytes(live());
    } finally {
      read.unlock();
    }
  }

  /** The kernel table, one entry per op in graph order; with Options.profile, each op's time so far. */
  public List<OpInfo> ops() {
    Lock read = lock.readLock();
    read.lock();
    try {
      long h = live();
      int n = nativeOpCount(h);
      byte[][] kinds = new byte[n][];
      byte[][] names = new byte[n][];
      byte[][] kernels = new byte[n][];
      double[] totalUs = new double[n];
      long[] runs = new long[n];
      nativeOps(h, kinds, names, kernels, totalUs, runs);
      List<OpInfo> ops = new ArrayList<>(n);
      for (int k = 0; k < n; ++k) {
        ops.add(new OpInfo(utf8(kinds[k]), utf8(names[k]), utf8(kernels[k]), totalUs[k], runs[k]));
      }
      return Collections.unmodifiableList(ops);
    } finally {
      read.unlock();
    }
  }

  // ---- Closing -----------------------------------------------------------------------------------------

  /** Frees the native session, after the calls in progress on other threads. Closing again does nothing. */
  @Override
  public void close() {
    Lock write = lock.writeLock();
    write.lock();
    try {
      if (handle != 0) {
        nativeClose(handle);
        handle = 0;
      }
    } finally {
      write.unlock();
    }
  }

  public boolean isClosed() {
    Lock read = lock.readLock();
    read.lock();
    try {
      return handle == 0;
    } finally {
      read.unlock();
    }
  }

  // ---- Helpers -----------------------------------------------------------------------------------------

  private void check() {
    Lock read = lock.readLock();
    read.lock();
    try {
      live();
    } finally {
      read.unlock();
    }
  }

  /** The handle; call with the read lock held. */
  private long live() {
    if (handle == 0) {
      throw new IllegalStateException("the session is closed");
    }
    return handle;
  }

  private static List<TensorInfo> infos(long h, boolean output, int n) {
    List<TensorInfo> list = new ArrayList<>(n);
    for (int i = 0; i < n; ++i) {
      long[] meta = new long[META_FIELDS + MAX_RANK];
      double[] scale = new double[1];
      String name = utf8(nativeInfo(h, output, i, meta, scale));
      long[] shape = Arrays.copyOfRange(meta, META_FIELDS, META_FIELDS + (int) meta[1]);
      list.add(new TensorInfo(name, DType.fromCode((int) meta[0]), shape, scale[0], meta[2], (int) meta[3]));
    }
    return Collections.unmodifiableList(list);
  }

  private static String utf8(byte[] bytes) {
    return bytes != null ? new String(bytes, StandardCharsets.UTF_8) : null;
  }

  private static byte[] cString(String s, String what) {
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " holds a NUL character");
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] isaBytes(Options options) {
    return options.isa != null ? cString(options.isa, "isa") : null;
  }

  // ---- libintedge_jni.so (edge_runtime/jni/intedge_jni.cc): one C API call each ---------------------------

  private static native int nativeFormatVersion();

  private static native String nativeIsaName(int index);

  private static native boolean nativeIsaSupported(byte[] isa);

  private static native long nativeOpenFile(byte[] path, int threads, byte[] isa, boolean profile,
      boolean checkFinite, long maxArenaBytes);

  private static native long nativeOpenBuffer(ByteBuffer model, int threads, byte[] isa, boolean profile,
      boolean checkFinite, long maxArenaBytes);

  private static native void nativeClose(long handle);

  private static native int nativeInputCount(long handle);

  private static native int nativeOutputCount(long handle);

  private static native byte[] nativeInfo(long handle, boolean output, int index, long[] meta, double[] scale);

  private static native long nativeDynamicBound(long handle);

  private static native byte[] nativeDynamicName(long handle);

  private static native void nativeRun(long handle, ByteBuffer[] inputs, byte[][] names, int[] dtypes,
      long[][] shapes, ByteBuffer[] outputs, long[][] outShapes, int[] outRanks, long[] outBytes);

  private static native String nativeIsa(long handle);

  private static native int nativeThreads(long handle);

  private static native long nativeArenaBytes(long handle);

  private static native long nativeWeightBytes(long handle);

  private static native long nativePackedWeightBytes(long handle);

  private static native int nativeOpCount(long handle);

  private static native void nativeOps(long handle, byte[][] kinds, byte[][] names, byte[][] kernels,
      double[] totalUs, long[] runs);
}
