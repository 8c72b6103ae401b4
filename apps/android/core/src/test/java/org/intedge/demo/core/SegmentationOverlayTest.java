package org.intedge.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import org.junit.Test;

public class SegmentationOverlayTest {
  @Test
  public void classMapIsTheArgmaxOverChannelsFirstOnTies() {
    // [1, 3, 1, 3]: pixel 0 → class 1, pixel 1 → a tie of 0 and 2 → 0, pixel 2 → class 2
    float[] logits = {0f, 5f, 1f, 2f, 1f, 1f, 1f, 5f, 3f};
    assertArrayEquals(new int[] {1, 0, 2}, SegmentationOverlay.classMap(logits, 3, 1, 3));
  }

  @Test
  public void blendTintsTheCropByItsMapCellsAndLeavesTheRest() {
    // a 4 × 2 image: its centred square is columns 1..2; a 2 × 2 map over it
    int grey = 0xFF646464;  // 100 in each channel
    int[] image = new int[8];
    Arrays.fill(image, grey);
    int[] map = {3, FashionMnist.BACKGROUND, 0, FashionMnist.BACKGROUND};
    int[] out = SegmentationOverlay.blend(image, 4, 2, map, 2, 128);
    int dress = mix(SegmentationOverlay.PALETTE[3], 100, 128);
    int tshirt = mix(SegmentationOverlay.PALETTE[0], 100, 128);
    assertArrayEquals(new int[] {grey, dress, grey, grey, grey, tshirt, grey, grey}, out);
  }

  @Test
  public void solidAlphaGivesThePaletteColour() {
    int[] out = SegmentationOverlay.blend(new int[] {0xFF000000}, 1, 1, new int[] {5}, 1, 255);
    assertEquals(SegmentationOverlay.PALETTE[5], out[0]);
  }

  @Test
  public void aSmallMapCoversALargeCropCellByCell() {
    int[] image = new int[9];
    int[] out = SegmentationOverlay.blend(image, 3, 3, new int[] {1, 1, 1, 2}, 2, 255);
    // cell ⌊p · 2 / 3⌋: rows and columns 0, 1 → cell 0; 2 → cell 1
    int a = SegmentationOverlay.PALETTE[1];
    int b = SegmentationOverlay.PALETTE[2];
    assertArrayEquals(new int[] {a, a, a, a, a, a, a, a, b}, out);
  }

  @Test
  public void legendListsGarmentsByAreaWithTheirShares() {
    int bg = FashionMnist.BACKGROUND;
    int[] map = {bg, 8, 1, 8, bg, bg, 1, 8};
    assertEquals(Arrays.asList(8, 1), SegmentationOverlay.classesByArea(map));
    assertEquals(3 / 8.0, SegmentationOverlay.share(map, 8), 0);
    assertEquals(3 / 8.0, SegmentationOverlay.share(map, bg), 0);
    assertEquals(0, SegmentationOverlay.share(map, 4), 0);
  }

  /** (α · colour + (255 − α) · grey + 127) / 255 per channel, written out by hand. */
  private static int mix(int colour, int grey, int alpha) {
    int r = (alpha * ((colour >> 16) & 0xFF) + (255 - alpha) * grey + 127) / 255;
    int g = (alpha * ((colour >> 8) & 0xFF) + (255 - alpha) * grey + 127) / 255;
    int b = (alpha * (colour & 0xFF) + (255 - alpha) * grey + 127) / 255;
    return 0xFF000000 | r << 16 | g << 8 | b;
  }
}
