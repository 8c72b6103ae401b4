"""Quantization-aware fine-tuning by distillation from the float model.

The QAT twin (twin.py) computes the integer graph's exact values; here it
learns to match the float model's outputs on unlabeled inputs (MSE, scaled by
the float outputs' variance), so the same loop serves classifiers,
segmenters and sentence encoders. Activation scales stay as calibrated;
weights, biases and LayerNorm γ/β move. The fine-tuned constants go back into
the Converter, whose graph() then emits them: bit-identical to the twin.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from .convert import Converter
from .twin import QATTwin


def finetune(conv: Converter, inputs: tuple[np.ndarray, ...], epochs: int = 1, batch: int = 16, lr: float = 3e-5,
             progress: bool = True) -> QATTwin:
    """Fine-tune conv's constants on `inputs` (arrays with a leading sample axis); returns the twin."""
    twin = QATTwin(conv, batch=batch)
    teacher = conv.model.eval()
    opt = torch.optim.Adam(twin.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    steps = len(inputs[0]) // batch
    if steps == 0:
        raise ValueError(f"QAT needs at least one full batch of {batch} inputs, got {len(inputs[0])}")
    for epoch in range(epochs):
        order = rng.permutation(len(inputs[0]))
        bar = tqdm(range(steps), desc=f"QAT epoch {epoch + 1}/{epochs}", disable=not progress)
        for step in bar:
            idx = order[step * batch:(step + 1) * batch]
            args = tuple(torch.from_numpy(x[idx]) for x in inputs)
            with torch.no_grad():
                target = teacher(*args)
            loss = torch.mean((twin(*args) - target) ** 2) / target.var().clamp(min=1e-12)
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.4f}")
    conv.consts = {k: v.detach().clone() for k, v in twin.consts().items()}
    return twin
