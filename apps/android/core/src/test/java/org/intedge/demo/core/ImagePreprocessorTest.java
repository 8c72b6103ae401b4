package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class ImagePreprocessorTest {
  @Test
  public void centreCropOfAWideImageLeavesTheOddPixelRight() {
    CentreCrop crop = CentreCrop.of(7, 4);
    assertEquals(1, crop.left);
    assertEquals(0, crop.top);
    assertEquals(4, crop.side);
  }

  @Test
  public void resizeSamplesTheZoosNearestIndices() {
    int[] image = new int[6 * 9];  // 6 wide, 9 high: the square is rows 1..6
    for (int i = 0; i < image.length; i++) {
      image[i] = i;
    }
    // size 4 from side 6: source indices (i * 6) / 4 = 0, 1, 3, 4
    int[] expected = new int[16];
    int[] index = {0, 1, 3, 4};
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        expected[y * 4 + x] = (1 + index[y]) * 6 + index[x];
      }
    }
    assertArrayEquals(expected, ImagePreprocessor.cropAndResize(image, 6, 9, 4));
  }

  @Test
  public void lumaIsPilsAndIgnoresAlpha() {
    assertEquals(76, ImagePreprocessor.luma(0xFFFF0000));  // (255 · 19595 + 32768) >> 16
    assertEquals(150, ImagePreprocessor.luma(0x0000FF00));
    assertEquals(29, ImagePreprocessor.luma(0x800000FF));
    assertEquals(255, ImagePreprocessor.luma(0xFFFFFFFF));
  }

  @Test
  public void greyValuesNormaliseWithFashionMnistsConstants() {
    ImageInputSpec spec = ImageInputSpec.forShape(new long[] {1, 1, 1, 1});
    float black = ImagePreprocessor.toTensor(new int[] {0xFF000000}, spec, false)[0];
    float inverted = ImagePreprocessor.toTensor(new int[] {0xFF000000}, spec, true)[0];
    assertEquals(-0.2860f / 0.3530f, black, 0f);
    assertEquals((1f - 0.2860f) / 0.3530f, inverted, 0f);
  }

  @Test
  public void lightBorderTellsWhichWayRoundTheImageIs() {
    int[] darkGarmentOnWhite = new int[9];
    Arrays.fill(darkGarmentOnWhite, 0xFFF0F0F0);
    darkGarmentOnWhite[4] = 0xFF000000;
    assertTrue(ImagePreprocessor.hasLightBorder(darkGarmentOnWhite, 3));
    int[] fashionMnistLike = new int[9];
    Arrays.fill(fashionMnistLike, 0xFF000000);
    fashionMnistLike[4] = 0xFFFFFFFF;
    assertFalse(ImagePreprocessor.hasLightBorder(fashionMnistLike, 3));
  }

  @Test
  public void refusesShapesThatAreNotSquareImages() {
    assertThrows(IllegalArgumentException.class, () -> ImageInputSpec.forShape(new long[] {1, 128}));
    assertThrows(IllegalArgumentException.class, () -> ImageInputSpec.forShape(new long[] {1, 2, 28, 28}));
    assertThrows(IllegalArgumentException.class, () -> ImageInputSpec.forShape(new long[] {1, 1, 28, 27}));
    assertThrows(IllegalArgumentException.class,
        () -> ImagePreprocessor.cropAndResize(new int[5], 2, 3, 28));
  }

  /**
   * The zoo's own tensors (vit-fmnist's first test images, segmenter-fmnist's first test scenes, as grey
   * pixels) and generated photos (wide, tall, smaller than the model, RGB, inverted) prepared in Python
   * with PIL's luma, fashion_mnist.scenes' nearest rule and fashion_mnist.normalize: equal bit for bit,
   * as both sides do the same float32 operations in the same order.
   */
  @Test
  public void matchesThePythonPreprocessingExactly() throws IOException {
    List<String> lines = Fixtures.lines("images.txt");
    assertEquals(0, lines.size() % 3);
    for (int at = 0; at < lines.size(); at += 3) {
      String[] header = lines.get(at).split(" ");
      int width = Integer.parseInt(header[0]);
      int height = Integer.parseInt(header[1]);
      int size = Integer.parseInt(header[2]);
      ImageInputSpec spec = ImageInputSpec.forShape(new long[] {1, Long.parseLong(header[3]), size, size});
      int[] square = ImagePreprocessor.cropAndResize(Fixtures.ints(lines.get(at + 1)), width, height, size);
      float[] tensor = ImagePreprocessor.toTensor(square, spec, Boolean.parseBoolean(header[4]));
      assertArrayEquals("case " + lines.get(at), Fixtures.floatBits(lines.get(at + 2)), tensor, 0f);
    }
  }
}
