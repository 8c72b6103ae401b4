package org.intedge;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The bridge on the committed fixture (tests/fixtures/every_op.ieg, every op of the spec): its outputs equal
 * the reference executor's bytes (every_op.out.bin, tests/every_op_bins.py) on every ISA of this CPU with 1
 * and 2 threads; metadata, errors, closing, the kernel table. Needs libintedge_jni.so (INTEDGE_JNI_LIB or
 * java.library.path); finds the fixtures through -Dintedge.fixtures or by walking up from the working
 * folder. -Dintedge.test.dynamic=a.ieg (a graph with a dynamic dimension) adds the variable-length test.
 */
public class SessionTest {
  private static Path model;
  private static byte[] inputBytes;
  private static byte[] expected;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  @BeforeClass
  public static void fixtures() throws IOException {
    Path dir = fixturesDir();
    model = dir.resolve("every_op.ieg");
    inputBytes = Files.readAllBytes(dir.resolve("every_op.in.bin"));
    expected = Files.readAllBytes(dir.resolve("every_op.out.bin"));
  }

  static Path fixturesDir() {
    String given = System.getProperty("intedge.fixtures");
    if (given != null) {
      return Paths.get(given);
    }
    for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("tests/fixtures/every_op.ieg"))) {
        return p.resolve("tests/fixtures");
      }
    }
    throw new IllegalStateException("tests/fixtures not found above " + Paths.get("").toAbsolutePath()
        + ": pass -Dintedge.fixtures=<repository>/tests/fixtures");
  }

  /** in.bin split into the graph's inputs, in order, named. */
  static Tensor[] inputs(Session s, byte[] raw) {
    List<TensorInfo> infos = s.inputs();
    Tensor[] in = new Tensor[infos.size()];
    int at = 0;
    for (int i = 0; i < in.length; ++i) {
      int n = (int) infos.get(i).byteSize();
      in[i] = infos.get(i).wrap(ByteBuffer.allocateDirect(n).put(raw, at, n).rewind());
      at += n;
    }
    assertEquals("in.bin holds the graph's inputs", raw.length, at);
    return in;
  }

  static byte[] concat(List<Tensor> outputs) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Tensor t : outputs) {
      b.writeBytes(t.toByteArray());
    }
    return b.toByteArray();
  }

  static IntedgeException assertRefused(IntedgeException.Status status, Runnable r) {
    IntedgeException e = assertThrows(IntedgeException.class, r::run);
    assertEquals(e.getMessage(), status, e.status());
    assertEquals(status.code(), e.statusCode());
    assertFalse("the C API's message", e.getMessage().isEmpty());
    return e;
  }

  @Test
  public void outputsEqualTheReferenceOnEveryIsaAndThreadCount() {
    List<String> isas = Session.supportedIsas();
    assertEquals("scalar", isas.get(0));
    assertTrue(Session.knownIsas().containsAll(isas));
    for (String isa : isas) {
      for (int threads = 1; threads <= 2; ++threads) {
        try (Session s = Session.open(model, new Session.Options().isa(isa).threads(threads))) {
          assertEquals(isa, s.isa());
          assertEquals(threads, s.threads());
          Tensor[] in = inputs(s, inputBytes);
          assertArrayEquals(isa + ", " + threads + " threads", expected, concat(s.run(in)));
          assertArrayEquals("a second run", expected, concat(s.run(in)));
        }
      }
    }
  }

  @Test
  public void openFromPathStringBufferAndArrayGiveTheSame() throws IOException {
    byte[] file = Files.readAllBytes(model);
    ByteBuffer direct = ByteBuffer.allocateDirect(file.length + 3);
    direct.put(new byte[] {1, 2, 3}).put(file).position(3); // the model from the buffer's position
    ByteBuffer heap = ByteBuffer.allocate(file.length + 5).put(new byte[5]).put(file);
    heap.position(5);
    List<Session> sessions = new ArrayList<>();
    try {
      sessions.add(Session.open(model));
      sessions.add(Session.open(model.toString()));
      sessions.add(Session.open(direct));
      sessions.add(Session.open(heap.asReadOnlyBuffer()));
      sessions.add(Session.open(file));
      assertEquals("the buffer's position is left as it is", 3, direct.position());
      for (Session s : sessions) {
        assertEquals(sessions.get(0).inputs().toString(), s.inputs().toString());
        assertEquals(sessions.get(0).outputs().toString(), s.outputs().toString());
        assertArrayEquals(expected, concat(s.run(inputs(s, inputBytes))));
      }
      assertTrue("weights used in place from a mapped file",
          sessions.get(0).weightBytes() >= sessions.get(0).packedWeightBytes());
    } finally {
      for (Session s : sessions) {
        s.close();
      }
    }
  }

  @Test
  public void metadataMatchesTheFile() {
    try (Session s = Session.open(model)) {
      List<TensorInfo> in = s.inputs();
      assertEquals(3, in.size());
      assertEquals("image", in.get(0).name());
      assertEquals(DType.FLOAT32, in.get(0).dtype());
      assertArrayEquals(new long[] {1, 1, 8, 8}, in.get(0).shape());
      assertEquals(0.0, in.get(0).scale(), 0);
      assertEquals(256, in.get(0).byteSize());
      assertEquals("tokens", in.get(1).name());
      assertEquals(DType.INT32, in.get(1).dtype());
      assertArrayEquals(new long[] {1, 5}, in.get(1).shape());
      assertEquals("mask", in.get(2).name());
      assertArrayEquals(new long[] {1, 1, 1, 5}, in.get(2).shape());
      List<TensorInfo> out = s.outputs();
      String[] names = {"logits", "label", "segmentation", "gelu_ivit_pool_f", "attention_map"};
      DType[] dtypes = {DType.FLOAT32, DType.INT32, DType.INT32, DType.FLOAT32, DType.INT8};
      long[][] shapes = {{1, 10}, {1}, {1, 4, 4}, {1, 64}, {1, 5, 5}};
      assertEquals(names.length, out.size());
      for (int i = 0; i < names.length; ++i) {
        assertEquals(names[i], out.get(i).name());
        assertEquals(dtypes[i], out.get(i).dtype());
        assertArrayEquals(shapes[i], out.get(i).shape());
        assertEquals(0, out.get(i).dynamicAxes());
      }
      assertEquals(0.0078125, out.get(4).scale(), 0);
      assertEquals(0, s.dynamicBound());
      assertNull(s.dynamicName());
      assertTrue(s.arenaBytes() > 0);
      assertTrue(s.weightBytes() > 0);
      assertTrue(Session.formatVersion().matches("\\d+\\.\\d+"));

      List<Tensor> result = s.run(inputs(s, inputBytes));
      for (int i = 0; i < names.length; ++i) {
        Tensor t = result.get(i);
        assertEquals(names[i], t.name());
        assertEquals(dtypes[i], t.dtype());
        assertArrayEquals(shapes[i], t.shape());
        assertTrue(t.data().isDirect());
        assertEquals(ByteOrder.nativeOrder(), t.data().order());
        assertEquals(out.get(i).byteSize(), t.byteSize());
      }
      assertEquals(1, result.get(1).toIntArray().length);
      assertEquals(10, result.get(0).toFloatArray().length);
      assertThrows(IllegalStateException.class, () -> result.get(0).toIntArray());
    }
  }

  @Test
  public void badFilesThrowTheCApisMessage() throws IOException {
    byte[] file = Files.readAllBytes(model);
    IntedgeException e = assertRefused(IntedgeException.Status.INVALID_FILE,
        () -> Session.open("garbage, not a model. ".repeat(8).getBytes(StandardCharsets.UTF_8)));
    assertEquals("byte 0: bad magic, not an .ieg file", e.getMessage());
    e = assertRefused(IntedgeException.Status.INVALID_FILE,
        () -> Session.open(Arrays.copyOf(file, file.length / 2)));
    assertTrue(e.getMessage(), e.getMessage().contains("truncated"));

    Path garbage = tmp.newFile("garbage.ieg").toPath();
    Files.write(garbage, new byte[100]);
    e = assertRefused(IntedgeException.Status.INVALID_FILE, () -> Session.open(garbage));
    assertTrue("a file's errors start with its path", e.getMessage().startsWith(garbage + ": "));
    Path truncated = tmp.newFile("truncated.ieg").toPath();
    Files.write(truncated, Arrays.copyOf(file, 100));
    assertRefused(IntedgeException.Status.INVALID_FILE, () -> Session.open(truncated));

    String missing = tmp.getRoot() + File.separator + "missing.ieg";
    e = assertThrows(IntedgeException.class, () -> Session.open(missing));
    assertEquals(missing + ": cannot open: No such file or directory", e.getMessage());

    Path flipped = tmp.newFile("flipped.ieg").toPath();
    byte[] bad = file.clone();
    bad[bad.length - 7] ^= 0x55; // in the data section: the CRC-32 catches it
    Files.write(flipped, bad);
    assertRefused(IntedgeException.Status.INVALID_FILE, () -> Session.open(flipped));
  }

  @Test
  public void badOptionsThrow() {
    assertRefused(IntedgeException.Status.INVALID_ARGUMENT,
        () -> Session.open(model, new Session.Options().threads(0)));
    IntedgeException e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT,
        () -> Session.open(model, new Session.Options().isa("bogus")));
    assertTrue(e.getMessage(), e.getMessage().contains("unknown ISA 'bogus'"));
    for (String isa : Session.knownIsas()) {
      if (!Session.supportedIsas().contains(isa)) {
        assertRefused(IntedgeException.Status.INVALID_ARGUMENT,
            () -> Session.open(model, new Session.Options().isa(isa)));
      }
    }
    assertRefused(IntedgeException.Status.OUT_OF_MEMORY,
        () -> Session.open(model, new Session.Options().maxArenaBytes(1)));
    assertThrows(IllegalArgumentException.class, () -> Session.open(model, new Session.Options().isa("a\0b")));
  }

  @Test
  public void nullsAndImpossibleShapesAreNamed() {
    NullPointerException e = assertThrows(NullPointerException.class, () -> Session.open((String) null));
    assertEquals("path", e.getMessage());
    assertEquals("model", assertThrows(NullPointerException.class, () -> Session.open((ByteBuffer) null)).getMessage());
    assertEquals("options", assertThrows(NullPointerException.class, () -> Session.open(model, null)).getMessage());
    assertEquals("values", assertThrows(NullPointerException.class, () -> Tensor.of((float[]) null, 1)).getMessage());
    try (Session s = Session.open(model)) {
      assertEquals("inputs", assertThrows(NullPointerException.class, () -> s.run((Tensor[]) null)).getMessage());
      assertEquals("inputs", assertThrows(NullPointerException.class,
          () -> s.run((Map<String, Tensor>) null)).getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.FLOAT32, -1, 4));
    assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.FLOAT32, Long.MAX_VALUE, 4));
  }

  @Test
  public void wrongInputsThrow() {
    try (Session s = Session.open(model)) {
      Tensor[] in = inputs(s, inputBytes);
      // dtype: the image's bytes as int32
      Tensor[] wrongDtype = in.clone();
      wrongDtype[0] = new Tensor(DType.INT32, in[0].shape(), in[0].data());
      IntedgeException e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(wrongDtype));
      assertTrue(e.getMessage(), e.getMessage().startsWith("input 'image': expected"));
      // shape
      Tensor[] wrongShape = in.clone();
      wrongShape[0] = new Tensor(DType.FLOAT32, new long[] {1, 1, 64, 1}, in[0].data());
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(wrongShape));
      // rank above IE_MAX_RANK: refused, nothing written past the shape
      Tensor[] deep = in.clone();
      deep[0] = new Tensor(DType.FLOAT32, new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8}, in[0].data());
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(deep));
      // bytes: one short
      Tensor[] short1 = in.clone();
      ByteBuffer fewer = in[0].data();
      fewer.limit(fewer.capacity() - 1);
      short1[0] = new Tensor(DType.FLOAT32, in[0].shape(), fewer);
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(short1));
      // count
      e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(in[0], in[1]));
      assertEquals("the graph takes 3 inputs, got 2", e.getMessage());
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run());
      // name, positional
      Tensor[] swapped = {in[0], in[2].withName("tokens"), in[1].withName("mask")};
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(swapped));
      Tensor[] misnamed = in.clone();
      misnamed[1] = in[1].withName("words");
      e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(misnamed));
      assertEquals("input 1 is 'tokens', got a tensor named 'words'", e.getMessage());
      // names, by map
      Map<String, Tensor> named = new HashMap<>();
      named.put("image", in[0]);
      named.put("tokens", in[1]);
      named.put("words", in[2]);
      e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(named));
      assertEquals("inputs: missing [mask], not the graph's [words] (the graph takes [image, tokens, mask])",
          e.getMessage());
      // NaN in a float input: refused by default, quantized to 0 with checkFinite off
      float[] image = in[0].toFloatArray();
      image[3] = Float.NaN;
      Tensor[] nan = in.clone();
      nan[0] = Tensor.of(image, in[0].shape());
      assertRefused(IntedgeException.Status.INVALID_ARGUMENT, () -> s.run(nan));
      try (Session lax = Session.open(model, new Session.Options().checkFinite(false))) {
        assertEquals(5, lax.run(nan).size());
      }
      // and the session still runs
      assertArrayEquals(expected, concat(s.run(in)));
    }
  }

  @Test
  public void namedAndHeapInputsRunToo() {
    try (Session s = Session.open(model)) {
      Tensor[] in = inputs(s, inputBytes);
      Map<String, Tensor> named = new HashMap<>();
      for (Tensor t : in) {
        ByteBuffer heap = ByteBuffer.allocate(t.byteSize()).put(t.data()); // a heap buffer: copied
        heap.rewind();
        named.put(t.name(), new Tensor(t.dtype(), t.shape(), heap));
      }
      Map<String, Tensor> out = s.run(named);
      assertEquals(Arrays.asList("logits", "label", "segmentation", "gelu_ivit_pool_f", "attention_map"),
          new ArrayList<>(out.keySet()));
      assertArrayEquals(expected, concat(new ArrayList<>(out.values())));
      Tensor unnamed = new Tensor(in[0].dtype(), in[0].shape(), in[0].data());
      assertArrayEquals(expected, concat(s.run(unnamed, in[1], in[2])));
    }
  }

  @Test
  public void closeTwiceIsSafeAndUseAfterCloseThrows() {
    Session s = Session.open(model);
    Tensor[] in = inputs(s, inputBytes);
    assertFalse(s.isClosed());
    s.close();
    s.close();
    assertTrue(s.isClosed());
    assertThrows(IllegalStateException.class, () -> s.run(in));
    assertThrows(IllegalStateException.class, s::inputs);
    assertThrows(IllegalStateException.class, s::outputs);
    assertThrows(IllegalStateException.class, s::isa);
    assertThrows(IllegalStateException.class, s::threads);
    assertThrows(IllegalStateException.class, s::arenaBytes);
    assertThrows(IllegalStateException.class, s::weightBytes);
    assertThrows(IllegalStateException.class, s::ops);
    assertThrows(IllegalStateException.class, s::dynamicBound);
    s.close();
  }

  @Test
  public void opsHaveOneEntryPerOpWithKernels() {
    try (Session s = Session.open(model, new Session.Options().profile(true))) {
      List<Session.OpInfo> ops = s.ops();
      assertTrue(ops.size() > 20);
      HashSet<String> kinds = new HashSet<>();
      for (Session.OpInfo op : ops) {
        assertFalse(op.kind().isEmpty());
        assertFalse(op.kernel().isEmpty());
        assertNotNull(op.name());
        assertEquals(0, op.runs());
        kinds.add(op.kind());
      }
      assertTrue(kinds.contains("qlinear"));
      Tensor[] in = inputs(s, inputBytes);
      for (int r = 0; r < 3; ++r) {
        s.run(in);
      }
      double total = 0;
      for (Session.OpInfo op : s.ops()) {
        assertEquals(op.toString(), 3, op.runs());
        total += op.totalMicros();
      }
      assertTrue(total > 0);
      assertEquals(ops.size(), s.ops().size());
    }
  }

  @Test
  public void threadsShareOneSession() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (Session s = Session.open(model, new Session.Options().threads(2))) {
      Tensor[] in = inputs(s, inputBytes);
      List<Future<byte[]>> results = new ArrayList<>();
      for (int k = 0; k < 32; ++k) {
        results.add(pool.submit(() -> concat(s.run(in))));
      }
      for (Future<byte[]> f : results) {
        assertArrayEquals(expected, f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  public void dynamicLengthRunsShorterInputs() {
    String path = System.getProperty("intedge.test.dynamic");
    Assume.assumeTrue("-Dintedge.test.dynamic=<a graph with a dynamic dimension> runs this", path != null);
    try (Session s = Session.open(path)) {
      long bound = s.dynamicBound();
      assertTrue(bound > 1);
      assertNotNull(s.dynamicName());
      for (long length : new long[] {1, bound / 2, bound}) {
        List<Tensor> out = s.run(RunModel.zeros(s, length));
        assertEquals(s.outputs().size(), out.size());
        for (Tensor t : out) {
          assertEquals(t.dtype().byteSize(t.elementCount()), t.byteSize());
        }
      }
      for (long length : new long[] {0, bound + 1}) {
        IntedgeException e = assertRefused(IntedgeException.Status.INVALID_ARGUMENT,
            () -> s.run(RunModel.zeros(s, length)));
        assertTrue(e.getMessage(), e.getMessage().contains("takes lengths 1 to " + bound));
      }
    }
  }
}
