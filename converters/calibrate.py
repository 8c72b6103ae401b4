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

from . import float_graph
from .errors import CalibrationError
from .float_graph import FloatGraph

METHODS = ("minmax", "percentile", "mse")
SAMPLES_PER_BATCH = 20000
MAX_SAMPLES = 400000
ROWS_PER_BATCH = 32  # rows of a value kept per calibration input, for the smoothing search
MAX_ROWS = 1024
GRAM_ROWS = 8192  # rows gathered before they are added to a Gram matrix: one product, not one per input


class Ranges:
    def __init__(self, method: str = "minmax", percentile: float = 99.99):
        if method not in METHODS:
            raise CalibrationError(f"calibration method must be one of {METHODS}, got {method!r}")
        if not 0 < percentile <= 100:
            raise CalibrationError(f"percentile must be in (0, 100], got {percentile}")
        self.method, self.percentile = method, percentile
        self.max: dict[str, float] = {}
        self.edges_of: set[str] = set()  # values whose channel maxima and rows to keep (smoothed activations)
        self.channel_max: dict[str, torch.Tensor] = {}  # max |x| per last-axis channel
        self._rows: dict[str, list[torch.Tensor]] = {}
        self.samples_of: set[str] = set()  # values whose samples to keep with minmax (a fitted GELU's input)
        self._samples: dict[str, list[np.ndarray]] = {}
        self._sampled: dict[str, int] = {}  # how many values of each are kept
        self.gram_of: set[str] = set()  # values whose Σ xᵀx to keep (inputs of GPTQ'd linears)
        self._grams: dict[str, torch.Tensor] = {}
        self._gram_rows: dict[str, list[torch.Tensor]] = {}  # rows not yet added to the Gram matrix
        self._rng = np.random.default_rng(0)

    def observe(self, name: str, x: torch.Tensor) -> None:
        a = x.detach().float().reshape(-1)
        self.max[name] = max(self.max.get(name, 0.0), float(a.abs().max()) if a.numel() else 0.0)
        if not a.numel():
            return
        if name in self.edges_of:
            rows = x.detach().float().reshape(-1, x.shape[-1])
            old = self.channel_max.get(name)
            self.channel_max[name] = rows.abs().amax(0) if old is None else torch.maximum(old, rows.abs().amax(0))
            self._keep_rows(name, rows)
        if name in self.gram_of:
            pending = self._gram_rows.setdefault(name, [])
            pending.append(x.detach().float().reshape(-1, x.shape[-1]))
            if sum(len(r) for r in pending) >= GRAM_ROWS:
                self._add_to_gram(name)
        if (self.method != "minmax" or name in self.samples_of) and self._sampled.get(name, 0) < MAX_SAMPLES:
            if a.numel() > SAMPLES_PER_BATCH:
                a = a[torch.from_numpy(self._rng.integers(0, a.numel(), SAMPLES_PER_BATCH))]
            self._samples.setdefault(name, []).append(a.numpy().astype(np.float32))
            self._sampled[name] = self._sampled.get(name, 0) + len(a)

    def _add_to_gram(self, name: str) -> None:
        rows = torch.cat(self._gram_rows.pop(name, [])).double()
        self._grams[name] = self._grams.get(name, 0) + rows.T @ rows

    def gram(self, name: str) -> np.ndarray:
        """Σ xᵀx over every row of `name` observed (a value in gram_of), in float64."""
        if name in self._gram_rows:
            self._add_to_gram(name)
        return self._grams[name].numpy()

    def _keep_rows(self, name: str, rows: torch.Tensor) -> None:
        kept = self._rows.setdefault(name, [])
        kept.append(self._pick(rows, ROWS_PER_BATCH))
        if len(kept) * ROWS_PER_BATCH > 2 * MAX_ROWS:  # thin out now and then, keeping memory bounded
            self._rows[name] = [self._pick(torch.cat(kept), MAX_ROWS)]

    def _pick(self, rows: torch.Tensor, k: int) -> torch.Tensor:
        """k of the rows at random (all if fewer), in their order."""
        if len(rows) <= k:
            return rows
        return rows[torch.from_numpy(np.sort(self._rng.choice(len(rows), k, replace=False)))]

    def rows(self, name: str) -> torch.Tensor:
        """Up to MAX_ROWS rows of `name` (a value in edges_of), sampled over every observation; the same
        rows at every call."""
        self._rows[name] = [self._pick(torch.cat(self._rows[name]), MAX_ROWS)]
        return self._rows[name][0]

    def samples(self, name: str) -> np.ndarray:
        """The kept values of `name` (signed): every value's with a method other than minmax, else those in
        samples_of."""
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
    """Observe every value on every item. A model with an attention mask is observed on its real tokens
    only: a padded position's values reach no output (attention and the masked sum leave them out), so
    letting them widen a range or weigh in GPTQ's statistics would spend precision on nothing."""
    with torch.no_grad():
        for item in tqdm(items, desc="calibrating", unit="input", disable=not progress):
            keep = real_tokens(g, item)
            observe = ranges.observe if keep is None else \
                (lambda name, x, keep=keep: ranges.observe(name, on_tokens(x, keep)))
            float_graph.run(g, {s.name: x for s, x in zip(g.inputs, item)}, observe, consts)
    return ranges


def real_tokens(g: FloatGraph, item: tuple[torch.Tensor, ...]) -> torch.Tensor | None:
    """The [batch, sequence] mask of an item's real tokens, for a model with one attention-mask input."""
    masks = [x for s, x in zip(g.inputs, item) if s.kind == "mask"]
    return masks[0] != 0 if len(masks) == 1 and masks[0].dim() == 2 else None


def on_tokens(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """The real tokens' rows of a value laid out [batch, sequence, ...]; other values whole."""
    return x[keep] if x.dim() >= 3 and tuple(x.shape[:2]) == tuple(keep.shape) else x
