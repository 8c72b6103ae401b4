"""The zoo: each model's factory, checkpoint, data and metric, by name.

A ZooModel knows everything `intedge convert` and `intedge eval` need about a
bundled model: how to build it with its weights, what an input looks like,
where calibration and test data come from, and how to score predictions.

Calibration, QAT training, validation and test data are disjoint for every
model (docs/accuracy.md, "Calibration and evaluation data"); splits.py checks
it sample by sample wherever a conversion is scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from intedge.converters import ZOO_NAMES
from intedge.converters.data import fashion_mnist as fm

CHECKPOINTS = Path(__file__).parent / "checkpoints"


def checkpoint_path(name: str) -> Path:
    return CHECKPOINTS / f"{name}.pt"


@dataclass(frozen=True)
class ZooModel:
    name: str
    description: str
    factory: Callable[[], torch.nn.Module]
    metric: str  # "top-1", "mIoU" (both in percent) or "cosine"
    calibration_set: Callable[[int], list[tuple[np.ndarray, ...]]]  # n samples → list of 1-sample input tuples
    test_set: Callable[[], tuple]  # → (inputs tuple of arrays, targets)
    training_set: Callable[[int], tuple[np.ndarray, ...]]  # n unlabeled samples for QAT, disjoint from the test set
    evaluate: Callable[[np.ndarray, object], float]  # (stacked predictions, targets) → metric
    # like test_set, held out from calibration, QAT and test data: for tuning conversion choices
    validation_set: Callable[[], tuple]
    # what a user's own calibration set (--calib-data) is: "image" (a folder of pictures, to image_size² grey)
    # or "text" (a file of sentences); calibration_data.py reads it
    input_kind: str
    image_size: int = 0
    trained_here: bool = True
    # Converter.calibrate options this model needs by default (a user's flag overrides them)
    conversion: dict = field(default_factory=dict)
    calibration_size: int = 64  # calibration inputs by default (--calib)

    def build(self, weights: bool = True) -> torch.nn.Module:
        model = self.factory()
        if weights and self.trained_here:
            path = checkpoint_path(self.name)
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run `python -m intedge.converters.zoo.train {self.name}`")
            model.load_state_dict(torch.load(path, weights_only=True)["state_dict"])
        return model.eval()

    def calibrated(self, weights: str, calibration: int, module: torch.nn.Module | None = None, **options):
        """A Converter for this model (or `module`, built already), calibrated on the first `calibration`
        inputs of its calibration set with its default conversion options, `weights` and `options` over them."""
        from intedge.converters.convert import Converter

        items = self.calibration_set(calibration)
        return Converter.calibrate(module if module is not None else self.build(),
                                   tuple(torch.from_numpy(x) for x in items[0]), items, progress=False,
                                   **(self.conversion | {"weights": weights} | options))

    def scored_set(self, split: str = "test") -> tuple:
        """(inputs, targets) of the "test" split (the accuracy table's) or the "validation" split."""
        if split not in ("test", "validation"):
            raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
        return self.test_set() if split == "test" else self.validation_set()

    def test_feeds(self, graph, n: int) -> list[dict[str, np.ndarray]]:
        """The first n test inputs, one at a time, as feeds of `graph` (converted at batch 1)."""
        from intedge.ir.graph import NUMPY_DTYPE

        inputs, _ = self.test_set()
        return [{graph.tensors[t].name: x[k:k + 1].astype(NUMPY_DTYPE[graph.tensors[t].dtype])
                 for t, x in zip(graph.inputs, inputs)} for k in range(n)]


def top1(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(-1) == labels).mean() * 100)


def mean_iou(logits: np.ndarray, labels: np.ndarray, n_cls: int = 11) -> float:
    """Mean over classes present in labels or predictions of intersection / union, in percent."""
    pred = logits.argmax(1)
    ious = []
    for c in range(n_cls):
        p, t = pred == c, labels == c
        union = np.logical_or(p, t).sum()
        if union:
            ious.append(np.logical_and(p, t).sum() / union)
    return float(np.mean(ious) * 100)


def _fmnist_calibration(n: int):
    images = fm.load("train")[0][fm.TUNING]  # never the validation images
    pick = np.random.default_rng(1).choice(len(images), n, replace=False)
    return [(x[None],) for x in fm.normalize(images[pick])]


def _fmnist_training(n: int):
    images = fm.load("train")[0][fm.TUNING]
    pick = np.random.default_rng(2).choice(len(images), n, replace=False)
    return (fm.normalize(images[pick]),)


def _fmnist_validation():
    images, labels = fm.load("train")
    return (fm.normalize(images[fm.VALIDATION]),), labels[fm.VALIDATION]


def _fmnist_test():
    images, labels = fm.load("test")
    return (fm.normalize(images),), labels


def _scenes_calibration(n: int):
    canvas, _ = fm.scenes("train", n, seed=1, pool=fm.TUNING)
    return [(x[None],) for x in fm.normalize(canvas)]


def _scenes_training(n: int):
    canvas, _ = fm.scenes("train", n, seed=2, pool=fm.TUNING)
    return (fm.normalize(canvas),)


def _scenes_validation():
    canvas, labels = fm.scenes("train", 2000, seed=3, pool=fm.VALIDATION)  # garments only calibration never saw
    return (fm.normalize(canvas),), labels


def _scenes_test():
    canvas, labels = fm.scenes("test", 2000)
    return (fm.normalize(canvas),), labels


def _vit():
    from .vit import vit_fmnist

    return vit_fmnist()


def _segmenter():
    from .segmenter import segmenter_fmnist

    return segmenter_fmnist()


def _swin():
    from .swin import SwinLogits

    return SwinLogits()


def _minilm_entry():
    from . import minilm

    return ZooModel("minilm", "all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, dim 384), sequence length 128",
                    minilm.build, "cosine", minilm.calibration_set,
                    minilm.test_set, minilm.training_set, minilm.mean_cosine, minilm.validation_set, "text",
                    trained_here=False,
                    # BERT's outlier channels (converters/smooth.py); 512 sentences (their real tokens only) give
                    # GPTQ's statistics of 1,536 inputs enough rows (docs/accuracy.md)
                    conversion={"smooth_alpha": "auto"}, calibration_size=512)


ZOO: dict[str, ZooModel] = {
    "vit-fmnist": ZooModel("vit-fmnist", "DeiT-style ViT (6 layers, dim 96, patch 4) on Fashion-MNIST 28×28",
                           _vit, "top-1", _fmnist_calibration, _fmnist_test, _fmnist_training, top1,
                           _fmnist_validation, "image", 28),
    "segmenter-fmnist": ZooModel("segmenter-fmnist",
                                 "Segmenter (ViT 4 layers + mask transformer) on Fashion-MNIST scenes 48×48",
                                 _segmenter, "mIoU", _scenes_calibration, _scenes_test, _scenes_training,
                                 mean_iou, _scenes_validation, "image", 48),
    "swin-fmnist": ZooModel("swin-fmnist", "stock transformers SwinForImageClassification (2 stages, dim 32, "
                            "window 7) on Fashion-MNIST 28×28", _swin, "top-1", _fmnist_calibration, _fmnist_test,
                            _fmnist_training, top1, _fmnist_validation, "image", 28),
    "minilm": _minilm_entry(),
}


if tuple(ZOO) != ZOO_NAMES:
    raise RuntimeError(f"intedge.converters.ZOO_NAMES {ZOO_NAMES} must list the zoo's entries {tuple(ZOO)}")


def get(name: str) -> ZooModel:
    if name not in ZOO:
        raise KeyError(f"unknown zoo model {name!r}; known: {', '.join(ZOO)}")
    return ZOO[name]
