"""The training loop's shared pieces for the zoo's models (train.py, train_llama.py)."""

from __future__ import annotations

import math

import torch
from torch import nn


def warmup_cosine(opt: torch.optim.Optimizer, steps: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over `warmup` steps, then a cosine decay to 0 at `steps`."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * s / steps))))


def step(model: nn.Module, opt: torch.optim.Optimizer, sched, loss: torch.Tensor, bar) -> None:
    """One optimizer step on `loss`, gradients clipped at norm 1; the loss shown on the progress bar."""
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    bar.set_postfix(loss=f"{loss.item():.3f}")
