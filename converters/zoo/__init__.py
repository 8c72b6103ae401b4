"""The model zoo: our own definitions (ViT/DeiT, Segmenter) and the real all-MiniLM-L6-v2."""

from .registry import ZOO, ZooModel, get

__all__ = ["ZOO", "ZooModel", "get"]
