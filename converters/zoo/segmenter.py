"""Segmenter (Strudel et al. 2021) in its integer-friendly I-Segmenter form.

A ViT encoder, then either a linear decoder or the mask transformer. As in
I-Segmenter: no L2 normalisation of the patch and class embeddings before
their product, and nearest (not bilinear) upsampling of the patch-level masks.
Module names follow the Segmenter repository (encoder, decoder.head,
decoder.proj_dec, decoder.cls_emb, decoder.blocks, decoder.proj_patch,
decoder.proj_classes, decoder.decoder_norm, decoder.mask_norm).
"""

from __future__ import annotations

import torch
from torch import nn

from .vit import Block, VisionTransformer


class DecoderLinear(nn.Module):
    def __init__(self, n_cls: int, d_encoder: int):
        super().__init__()
        self.head = nn.Linear(d_encoder, n_cls)

    def forward(self, x):
        return self.head(x)


class MaskTransformer(nn.Module):
    def __init__(self, n_cls: int, d_encoder: int, n_layers: int, d_model: int, n_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.n_cls, self.scale = n_cls, d_model**-0.5
        self.proj_dec = nn.Linear(d_encoder, d_model)
        self.cls_emb = nn.Parameter(torch.randn(1, n_cls, d_model) * 0.02)
        self.blocks = nn.Sequential(*[Block(d_model, n_heads, mlp_ratio) for _ in range(n_layers)])
        self.proj_patch = nn.Parameter(self.scale * torch.randn(d_model, d_model))
        self.proj_classes = nn.Parameter(self.scale * torch.randn(d_model, d_model))
        self.decoder_norm = nn.LayerNorm(d_model)
        self.mask_norm = nn.LayerNorm(n_cls)

    def forward(self, x):
        n = x.shape[1]
        x = torch.cat([self.proj_dec(x), self.cls_emb.expand(x.shape[0], -1, -1)], dim=1)
        x = self.decoder_norm(self.blocks(x))
        patches, cls_feat = x[:, :n], x[:, n:]
        masks = (patches @ self.proj_patch) @ (cls_feat @ self.proj_classes).transpose(1, 2)
        return self.mask_norm(masks)


class Segmenter(nn.Module):
    """Image [B, C, H, W] → class logits [B, n_cls, H, W] (patch-level, upsampled by nearest)."""

    def __init__(self, encoder: VisionTransformer, n_cls: int, decoder: str = "mask_transformer",
                 decoder_layers: int = 1, decoder_heads: int | None = None):
        super().__init__()
        d = encoder.config["embed_dim"]
        self.config = dict(encoder=encoder.config, n_cls=n_cls, decoder=decoder, decoder_layers=decoder_layers,
                           decoder_heads=decoder_heads or encoder.config["num_heads"])
        self.encoder, self.n_cls = encoder, n_cls
        self.patch_size, self.grid = encoder.config["patch_size"], encoder.patch_embed.grid
        if decoder == "linear":
            self.decoder = DecoderLinear(n_cls, d)
        elif decoder == "mask_transformer":
            self.decoder = MaskTransformer(n_cls, d, decoder_layers, d, self.config["decoder_heads"])
        else:
            raise ValueError(f"decoder must be 'linear' or 'mask_transformer', got {decoder!r}")

    def forward(self, x):
        tokens = self.encoder.forward_features(x)[:, 1:]
        masks = self.decoder(tokens)
        b = masks.shape[0]
        masks = masks.transpose(1, 2).reshape(b, self.n_cls, self.grid, self.grid)
        return nn.functional.interpolate(masks, scale_factor=self.patch_size, mode="nearest")


def segmenter_fmnist(decoder: str = "mask_transformer", **kw) -> Segmenter:
    """Our Fashion-MNIST-scenes segmenter: 48×48 canvases, patch 4, dim 96, 4 encoder layers, 11 classes."""
    enc = VisionTransformer(**{"img_size": 48, "patch_size": 4, "in_chans": 1, "num_classes": 0, "embed_dim": 96,
                               "depth": 4, "num_heads": 3} | kw)
    return Segmenter(enc, n_cls=11, decoder=decoder)
