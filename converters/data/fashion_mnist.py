"""Fashion-MNIST from Debian's dataset-fashion-mnist, and scenes built from it.

Images are float32 in [0, 1], normalised by the dataset's mean and std
(NORM_MEAN, NORM_STD) at model input. Scenes paste several real garments at
random positions and scales on a blank canvas, deterministically per split and
seed; each pixel is labelled with its garment's class where the garment's ink
is above INK, else background (class 10).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

ROOT = Path(os.environ.get("INTEDGE_FMNIST", "/usr/share/datasets/fashion-mnist"))
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
BACKGROUND = 10
NORM_MEAN, NORM_STD = 0.2860, 0.3530
INK = 0.2
# The last 2,000 train images are held out as the zoo's validation split: calibration and QAT draw only from
# TUNING, the rest of the train split (converters/zoo/registry.py; docs/accuracy.md, "Calibration and evaluation data").
VALIDATION = slice(58000, 60000)
TUNING = slice(0, 58000)
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class DatasetMissing(FileNotFoundError):
    pass


def load(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [N, 28, 28] in [0, 1], labels int64 [N]) of 'train' (60k) or 'test' (10k)."""
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    paths = [ROOT / f for f in _FILES[split]]
    if not all(p.exists() for p in paths):
        raise DatasetMissing(f"Fashion-MNIST not found under {ROOT}: `apt-get install dataset-fashion-mnist` "
                             "(or point INTEDGE_FMNIST at a folder with the four idx .gz files)")
    with gzip.open(paths[0]) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(paths[1]) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def normalize(images: np.ndarray) -> np.ndarray:
    """[N, H, W] in [0, 1] → model input [N, 1, H, W]."""
    return ((images - NORM_MEAN) / NORM_STD)[:, None].astype(np.float32)


def scenes(split: str, count: int, size: int = 48, seed: int = 0, garments: tuple[int, int] = (2, 4),
           pool: slice = slice(None)):
    """(canvases float32 [count, size, size], labels int64 [count, size, size]).

    Each canvas gets 2–4 garments from `split` (only its images in `pool`, e.g. TUNING or VALIDATION), each
    resized (nearest) to 14–28 px and pasted at a random position; later garments cover earlier ones where
    their ink is above INK.
    """
    images, classes = load(split)
    images, classes = images[pool], classes[pool]
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    canvas = np.zeros((count, size, size), np.float32)
    label = np.full((count, size, size), BACKGROUND, np.int64)
    for n in range(count):
        for _ in range(rng.integers(garments[0], garments[1] + 1)):
            k = rng.integers(len(images))
            side = int(rng.integers(14, 29))
            idx = (np.arange(side) * 28) // side
            patch = images[k][idx][:, idx]
            y, x = rng.integers(0, size - side + 1, size=2)
            ink = patch > INK
            canvas[n, y:y + side, x:x + side][ink] = patch[ink]
            label[n, y:y + side, x:x + side][ink] = classes[k]
    return canvas, label
