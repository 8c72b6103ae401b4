"""A user's own calibration set for a zoo model: `--calib-data PATH` on `intedge convert` and `intedge eval`.

* Image models (vit-fmnist, swin-fmnist, segmenter-fmnist): a folder of pictures
  (png, jpg, bmp, gif, tiff, webp, pgm/ppm; subfolders too, in path order) or
  one picture. Each is prepared as the Android app prepares a photo
  (apps/android/core's ImagePreprocessor), so that calibration sees what the
  app will feed: PIL's grey ("L"), the largest centred square, nearest-
  neighbour resize to the model's side (pixel i samples ⌊i · side / size⌋),
  inverted when its border is light (Fashion-MNIST garments are light on
  black), then /255 and fashion_mnist.normalize.
* Text models (minilm): a UTF-8 text file, one sentence per line (blank lines
  skipped), tokenized as the model's own test sentences are.

The first N (`--calib N`) are used. Anything unusable raises CalibrationError
naming the path, which the CLI reports with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intedge.converters.data import fashion_mnist as fm
from intedge.converters.errors import CalibrationError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def user_calibration(spec, path, n: int | None = None) -> list[tuple[np.ndarray, ...]]:
    """The first n samples of the user's set at `path`, as `spec`'s (a ZooModel's) calibration items."""
    path = Path(path)
    if not path.exists():
        raise CalibrationError(f"--calib-data {path}: no such file or folder")
    if spec.input_kind == "image":
        return [(_image(f, spec.image_size),) for f in _image_files(path)[:n]]
    if spec.input_kind == "text":
        from intedge.converters.zoo import minilm

        ids, mask = minilm.tokenize(_sentences(path)[:n])
        return [(ids[i:i + 1], mask[i:i + 1]) for i in range(len(ids))]
    raise CalibrationError(f"--calib-data {path}: {spec.name} takes neither images nor text")


def _image_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise CalibrationError(f"--calib-data {path}: not an image ({', '.join(IMAGE_SUFFIXES)}); "
                                   "give a folder of images or one image")
        return [path]
    files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CalibrationError(f"--calib-data {path}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    return files


def _image(path: Path, size: int) -> np.ndarray:
    """One picture → the model's input [1, 1, size, size], float32."""
    from intedge.extras import require

    Image = require("PIL.Image", "torch", "reading --calib-data images")
    try:
        with Image.open(path) as img:
            grey = np.asarray(img.convert("L"), np.uint8)
    except Image.DecompressionBombError as e:  # PIL refuses pictures over ~179 megapixels
        raise CalibrationError(f"--calib-data {path}: too large to read safely ({e})") from None
    except (OSError, ValueError) as e:  # PIL's UnidentifiedImageError is an OSError
        raise CalibrationError(f"--calib-data {path}: not a readable image ({e})") from None
    height, width = grey.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    idx = (np.arange(size) * side) // size
    square = grey[top + idx][:, left + idx]
    border = np.concatenate([square[0], square[-1], square[1:-1, 0], square[1:-1, -1]]).astype(np.int64)
    if 2 * border.sum() > 255 * border.size:  # a dark object on a light ground: make it light on black
        square = 255 - square
    return fm.normalize(square[None].astype(np.float32) / 255.0)


def _sentences(path: Path) -> list[str]:
    if path.is_dir():
        raise CalibrationError(f"--calib-data {path}: a folder; give a UTF-8 text file, one sentence per line")
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError as e:
        raise CalibrationError(f"--calib-data {path}: not UTF-8 text ({e})") from None
    sentences = [line for line in lines if line]
    if not sentences:
        raise CalibrationError(f"--calib-data {path}: no sentences (the file is empty or blank)")
    return sentences
