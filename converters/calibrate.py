"""Calibration: run the float graph on sample inputs and choose each activation's range.

Every activation keeps its exact max |x| and a bounded random sample of its
values; a range is then chosen per method:
* "minmax": the max |x| seen;
* "percentile": that percentile of |x| (default 99.99);
* "mse": the clipping range minimizing the int8 quantization error over the
  sample (a grid search from 30 % to 100 % of the max).
16-bit and 32-bit activations always take the max: they have bits to spare.
One calibration input is enough for some models (I-Segmenter): pass one.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from . import float_graph, gptq
from .errors import CalibrationError
from .float_graph import FloatGraph

METHODS = ("minmax", "percentile", "mse")
SAMPLES_PER_BATCH = 20000
MAX_SAMPLES = 400000


class Ranges:
    def __init__(self, method: str = "minmax", percentile: float = 99.99):
        if method not in METHODS:
            raise CalibrationError(f"calibration method must be one of {METHODS}, got {method!r}")
        if not 0 < percentile <= 100:
            raise CalibrationError(f"percentile must be in (0, 100], got {percentile}")
        self.method, self.percentile = method, percentile
        self.max: dict[str, float] = {}
        self.channel_max: dict[str, torch.Tensor] = {}  # max |x| per last-axis channel (for smoothing)
        self._samples: dict[str, list[np.ndarray]] = {}
        self.gram_of: set[str] = set()  # values whose Σ xᵀx to keep (inputs of GPTQ'd linears)
        self.grams: dict[str, np.ndarray] = {}
        self._rng = np.random.default_rng(0)

    def observe(self, name: str, x: torch.Tensor) -> None:
        a = x.detach().float().reshape(-1)
        self.max[name] = max(self.max.get(name, 0.0), float(a.abs().max()) if a.numel() else 0.0)
        if a.numel():
            per_channel = x.detach().float().abs().reshape(-1, x.shape[-1]).amax(0)
            old = self.channel_max.get(name)
            self.channel_max[name] = per_channel if old is None else torch.maximum(old, per_channel)
        if name in self.gram_of:
            self.grams[name] = self.grams.get(name, 0) + gptq.gram(x.detach().numpy())
        kept = self._samples.setdefault(name, [])
        if sum(len(k) for k in kept) < MAX_SAMPLES:
            if a.numel() > SAMPLES_PER_BATCH:
                a = a[torch.from_numpy(self._rng.choice(a.numel(), SAMPLES_PER_BATCH, replace=False))]
            kept.append(a.numpy().astype(np.float32))

    def samples(self, name: str) -> np.ndarray:
        """The kept values of `name` (signed)."""
        return np.concatenate(self._samples[name])

    def amax(self, name: str, bits: int = 8) -> float:
        """The range to quantize `name` to `bits` bits symmetric."""
        top = self.max[name]
        if bits > 8 or self.method == "minmax" or top == 0:
            return top
        s = self.samples(name)
        if self.method == "percentile":
            return max(float(np.percentile(np.abs(s), self.percentile)), top * 1e-3)
        return _mse_range(s, top, 2 ** (bits - 1) - 1)


def _mse_range(samples: np.ndarray, top: float, qmax: int) -> float:
    best, best_err = top, np.inf
    for c in np.linspace(0.3, 1.0, 36) * top:
        scale = c / qmax
        err = float(np.mean((np.clip(np.rint(samples / scale), -qmax - 1, qmax) * scale - samples) ** 2))
        if err < best_err:
            best, best_err = c, err
    return float(best)


def as_input_tuples(g: FloatGraph, calibration) -> list[tuple[torch.Tensor, ...]]:
    """Check every calibration item against the captured inputs; tensors or arrays, one per input."""
    items = list(calibration) if calibration is not None else []
    if not items:
        raise CalibrationError("the calibration set is empty: pass at least one input (one image can suffice)")
    out = []
    for k, item in enumerate(items):
        item = item if isinstance(item, (tuple, list)) else (item,)
        if len(item) != len(g.inputs):
            raise CalibrationError(f"calibration item {k} has {len(item)} tensors, the model takes {len(g.inputs)}")
        tensors = []
        for spec, x in zip(g.inputs, item):
            x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
            if tuple(x.shape) != spec.shape:
                raise CalibrationError(f"calibration item {k}: input {spec.name!r} has shape {tuple(x.shape)}, "
                                       f"the model was captured with {spec.shape}")
            if spec.kind == "float":
                if not x.is_floating_point():
                    raise CalibrationError(f"calibration item {k}: input {spec.name!r} must be floating point")
                if not torch.isfinite(x).all():
                    raise CalibrationError(f"calibration item {k}: input {spec.name!r} contains NaN or Inf")
                x = x.float()
            elif x.is_floating_point():
                raise CalibrationError(f"calibration item {k}: input {spec.name!r} must be integer (token ids / mask)")
            tensors.append(x)
        out.append(tuple(tensors))
    return out


def calibrate(g: FloatGraph, items: list[tuple[torch.Tensor, ...]], ranges: Ranges, consts=None,
              progress: bool = True) -> Ranges:
    with torch.no_grad():
        for item in tqdm(items, desc="calibrating", unit="input", disable=not progress):
            float_graph.run(g, {s.name: x for s, x in zip(g.inputs, item)}, ranges.observe, consts)
    return ranges
