package org.intedge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

/**
 * Runs any .ieg through the bridge on raw inputs and writes its raw outputs, for tests/test_android_bridge.py:
 *
 * <pre>
 *   java ... org.intedge.RunModel model.ieg in.bin out.bin [threads] [length]
 * </pre>
 *
 * in.bin: the graph's inputs in order, each's bytes as the engine lays them out (a graph with a dynamic
 * dimension: at {@code length}, default its bound); out.bin gets the outputs the same way. Prints the
 * session's description on stdout, one tab-separated line each: {@code isa}, {@code input}/{@code output}
 * (name, dtype, shape, scale), {@code op} (kind, name, kernel), {@code out} (name, dtype, shape of the run's
 * outputs). A refusal prints {@code IntedgeException <status code>: <message>} on stderr and exits 3.
 */
public final class RunModel {
  private RunModel() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 3 || args.length > 5) {
      System.err.println("usage: RunModel model.ieg in.bin out.bin [threads] [length]");
      System.exit(2);
    }
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    try (Session s = Session.open(args[0], new Session.Options().threads(threads))) {
      long length = args.length > 4 ? Long.parseLong(args[4]) : s.dynamicBound();
      System.out.println("isa\t" + s.isa());
      describe("input", s.inputs());
      describe("output", s.outputs());
      for (Session.OpInfo op : s.ops()) {
        System.out.println("op\t" + op.kind() + "\t" + op.name() + "\t" + op.kernel());
      }
      List<Tensor> out = s.run(inputsAt(s, Files.readAllBytes(Paths.get(args[1])), length));
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      for (Tensor t : out) {
        System.out.println("out\t" + t.name() + "\t" + t.dtype().name().toLowerCase() + "\t"
            + Arrays.toString(t.shape()));
        raw.writeBytes(t.toByteArray());
      }
      Files.write(Paths.get(args[2]), raw.toByteArray());
    } catch (IntedgeException e) {
      System.err.println("IntedgeException " + e.statusCode() + ": " + e.getMessage());
      System.exit(3);
    }
  }

  private static void describe(String what, List<TensorInfo> infos) {
    for (TensorInfo t : infos) {
      System.out.println(what + "\t" + t.name() + "\t" + t.dtype().name().toLowerCase() + "\t"
          + Arrays.toString(t.shape()) + "\t" + t.scale());
    }
  }

  /** The shape of input t at dynamic length `length` (bound: the session's). */
  static long[] shapeAt(TensorInfo t, long bound, long length) {
    long[] shape = t.shape();
    for (int a = 0; a < shape.length; ++a) {
      if ((t.dynamicAxes() >> a & 1) != 0) {
        shape[a] = shape[a] / bound * length;
      }
    }
    return shape;
  }

  /** raw split into the session's inputs at `length`, named; the bytes must add up. */
  static Tensor[] inputsAt(Session s, byte[] raw, long length) {
    List<TensorInfo> infos = s.inputs();
    Tensor[] in = new Tensor[infos.size()];
    int at = 0;
    for (int i = 0; i < in.length; ++i) {
      TensorInfo t = infos.get(i);
      long[] shape = shapeAt(t, s.dynamicBound(), length);
      int n = (int) t.dtype().byteSize(Tensor.allocate(t.dtype(), shape).elementCount());
      if (at + n > raw.length) {
        throw new IllegalArgumentException("in.bin holds " + raw.length + " bytes, too few for input '" + t.name()
            + "' at " + Arrays.toString(shape));
      }
      ByteBuffer b = Tensor.direct(n);
      b.duplicate().put(raw, at, n);
      in[i] = new Tensor(t.name(), t.dtype(), shape, b);
      at += n;
    }
    if (at != raw.length) {
      throw new IllegalArgumentException("in.bin holds " + raw.length + " bytes, the inputs " + at);
    }
    return in;
  }

  /** The session's inputs at `length`, all zero but for masks of ones (an input named *mask*). */
  static Tensor[] zeros(Session s, long length) {
    List<TensorInfo> infos = s.inputs();
    Tensor[] in = new Tensor[infos.size()];
    for (int i = 0; i < in.length; ++i) {
      TensorInfo t = infos.get(i);
      Tensor z = Tensor.allocate(t.dtype(), shapeAt(t, s.dynamicBound(), Math.max(length, 0)));
      if (t.name().contains("mask") && t.dtype().bits() == 8) {
        ByteBuffer d = z.data();
        while (d.hasRemaining()) {
          d.put((byte) 1);
        }
      }
      in[i] = z.withName(t.name());
    }
    return in;
  }
}
