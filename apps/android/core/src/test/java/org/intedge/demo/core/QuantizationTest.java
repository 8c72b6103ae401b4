package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.IOException;
import java.util.List;
import org.junit.Test;

public class QuantizationTest {
  @Test
  public void int8MaskAndItsRange() {
    assertArrayEquals(new byte[] {1, 0, -128, 127}, Quantization.toInt8(new int[] {1, 0, -128, 127}));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Quantization.toInt8(new int[] {0, 128}));
    assertEquals("value 128 at 1 does not fit int8", e.getMessage());
  }

  @Test
  public void dequantizeIsFloatTimesScale() {
    assertArrayEquals(new float[] {-0.75f, 31.75f}, Quantization.dequantize(new byte[] {-3, 127}, 0.25), 0f);
    assertArrayEquals(new float[] {-8192f}, Quantization.dequantize(new short[] {-32768}, 0.25), 0f);
    assertArrayEquals(new float[] {-10000f, 0.75f}, Quantization.dequantize(new int[] {-40000, 3}, 0.25), 0f);
  }

  @Test
  public void refusesAScaleThatIsNotPositive() {
    assertThrows(IllegalArgumentException.class, () -> Quantization.quantizeInt8(new float[1], 0));
    assertThrows(IllegalArgumentException.class, () -> Quantization.quantizeInt16(new float[1], Double.NaN));
  }

  /** integer_ops/quantize.py quantize_input on random values, ties, NaN, ±inf and overflow: exactly. */
  @Test
  public void quantizeIsTheEnginesInputQuantizer() throws IOException {
    List<String> lines = Fixtures.lines("quantize.txt");
    assertEquals(0, lines.size() % 3);
    for (int at = 0; at < lines.size(); at += 3) {
      String[] header = lines.get(at).split(" ");
      float[] values = Fixtures.floatBits(lines.get(at + 1));
      double scale = Double.parseDouble(header[0]);
      int[] got = new int[values.length];
      if (header[1].equals("1")) {
        byte[] q = Quantization.quantizeInt8(values, scale);
        for (int i = 0; i < q.length; i++) {
          got[i] = q[i];
        }
      } else {
        short[] q = Quantization.quantizeInt16(values, scale);
        for (int i = 0; i < q.length; i++) {
          got[i] = q[i];
        }
      }
      assertArrayEquals("case " + lines.get(at), Fixtures.ints(lines.get(at + 2)), got);
    }
  }
}
