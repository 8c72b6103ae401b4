"""Swin on Fashion-MNIST: the stock `transformers` SwinForImageClassification, trained here.

The model is HF's own class with its default (SDPA) attention, not a copy:
it is the zoo's check that a stock class converts and keeps its accuracy as
it comes — windows, cyclic shift, relative position bias, patch merging.
28×28 grey images, patch 2 (14×14 tokens), window 7, two stages.
"""

from __future__ import annotations

import warnings

from torch import nn

from intedge.extras import require

CONFIG = dict(image_size=28, patch_size=2, num_channels=1, embed_dim=32, depths=[2, 2], num_heads=[2, 4],
              window_size=7, mlp_ratio=2.0, num_labels=10)


class SwinLogits(nn.Module):
    """SwinForImageClassification returning its logits tensor (the zoo's predictions)."""

    def __init__(self):
        super().__init__()
        transformers = require("transformers", "zoo", "the Swin model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.swin = transformers.SwinForImageClassification(transformers.SwinConfig(**CONFIG))
        self.config = dict(CONFIG)

    def forward(self, x):
        return self.swin(pixel_values=x).logits
